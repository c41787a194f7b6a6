"""Imported once by the forkserver (harness.isolate.PRELOAD), never by the harness itself: imports
the runtimes and runs one tiny model through each, so that every worker forked afterwards starts
with their one-time set-up done (TFLM's first interpreter alone costs ~40 ms)."""

from __future__ import annotations

import gc

from .worker import warm_up

warm_up()
gc.freeze()  # the collector never walks (so never copies) the pages every worker shares with the server
