"""The program pushed to Linux boards, and the wire protocol it shares with the MCUs (wire.py)."""
