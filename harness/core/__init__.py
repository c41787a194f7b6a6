"""Layer 1, core: what a .tflite model is — TensorSpec, the dtype table, the sample-shape rule,
the bounds-checked reader and verifier, op names — and the settings files (YAML → dataclasses).
Each fact once; imports only the base modules (errors)."""
