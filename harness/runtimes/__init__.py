"""Layer 4, runtimes: this machine's interpreters (tflite-runtime, ai-edge-litert, TFLM, our firmware
engine compiled natively), each run in a worker process (isolate, worker) behind Runner."""
