"""On-device benchmarking harness: int8 drift and latency, host vs board."""

__version__ = "0.1.0"
