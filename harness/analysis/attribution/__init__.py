"""Why a target drifts from TFLM: each op replayed on the host in numpy from the device's own
input tensors, under a family of published int8 arithmetics (requantisation rounding, multiplier
forms, accumulation width, pooling division, exp tables), and the one that reproduces the
device's tensor byte for byte named. docs/attribution.md has the variants and formulas."""
