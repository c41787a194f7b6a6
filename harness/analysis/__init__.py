"""Layer 7, analysis: metrics, calibration, per-layer localisation, op attribution and run
comparison — pure functions of a run directory and the host references."""
