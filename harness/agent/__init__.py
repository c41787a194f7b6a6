"""The program pushed to Linux boards (`python3 -m harness.agent` there): a server of the wire
protocol (docs/protocol.md) over stdin/stdout in front of the board's TFLite runtime.

It runs on the board's own Python 3 with numpy and tflite_runtime or ai_edge_litert, nothing else
from this project but the stdlib-only modules named in SHIPPED: the SSH driver copies exactly
these files (shipped_files()), and tests/ssh/test_agent.py runs the agent from such a copy.
"""

from __future__ import annotations

from pathlib import Path

# Every file of the harness package the board gets, relative to the folder holding harness/.
# The package __init__ files are import-free docstrings, so importing these pulls in nothing else.
SHIPPED = ("harness/__init__.py", "harness/agent/__init__.py", "harness/agent/__main__.py",
           "harness/agent/device.py", "harness/agent/handler.py", "harness/agent/server.py",
           "harness/protocol/__init__.py", "harness/protocol/wire.py",
           "harness/core/__init__.py", "harness/core/tflite.py")


def shipped_files() -> dict[str, bytes]:
    """{relative path: bytes} of SHIPPED, as the board gets them."""
    top = Path(__file__).resolve().parents[2]
    return {rel: (top / rel).read_bytes() for rel in SHIPPED}
