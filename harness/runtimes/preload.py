"""Imported once by the forkserver (harness.isolate.PRELOAD), never by the harness itself: imports
the runtimes and runs one tiny model through each, so that every worker forked afterwards starts
with their one-time set-up done (TFLM's first interpreter alone costs ~40 ms)."""

from __future__ import annotations

import gc
import os

from .worker import warm_up

_saved = [os.dup(1), os.dup(2)]  # what the runtimes print while warming up is not for the user's terminal
_null = os.open(os.devnull, os.O_WRONLY)
os.dup2(_null, 1)
os.dup2(_null, 2)
try:
    warm_up()
finally:
    for fd, saved in zip((1, 2), _saved):
        os.dup2(saved, fd)
        os.close(saved)
    os.close(_null)
gc.freeze()  # the collector never walks (so never copies) the pages every worker shares with the server
