"""Imported once by the forkserver (harness.isolate.PRELOAD), never by the harness itself: imports
the runtimes and runs one tiny model through each, so that every worker forked afterwards starts
with their one-time set-up done (TFLM's first interpreter alone costs ~40 ms)."""

from __future__ import annotations

from .worker import warm_up

warm_up()
