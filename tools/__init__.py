"""Developer tools: scripts (`python tools/x.py` or `python -m tools.x`) and the modules tests and
bench/ share — tflite_build and op_models (single-op models without TensorFlow), loopback_sshd and
rpi4_emu (an SSH board on this machine)."""
