"""Kinds eembc, qemu-eembc, eembc-fake: firmware we did not write, speaking the MLPerf Tiny (EEMBC)
benchmark's text protocol over a serial URL (its own client, client.py)."""
