"""Layer 9, run: what a command does — requests, model jobs and inputs, host references, the bench
run with its journal, lock and resume, regression, sweep, recipes and the lab fan-out."""
