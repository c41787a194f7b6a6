"""Start the board agent on an SSH exec channel and speak to it with the one protocol client.

The agent is exec'd once per connection; its HELLO says whether it started (a missing runtime is a
fact in HELLO, not a crash) and a command that never started is told apart from a cut link.
"""

from __future__ import annotations

import time

from ...errors import LinkError, TargetError, TargetTimeout
from ...protocol.client import TargetClient
from ...protocol.link import Link
from ...protocol.streams import ChannelStream

INVOKE_FIRST_S = 120.0  # the first INVOKE may legitimately run this long before the host re-sends it


def start_agent(ssh, command: str, where: str, hello_timeout: float, target: str = "…") -> TargetClient:
    """Exec the agent on the paramiko client `ssh` and read its HELLO; a failure to start is a
    TargetError, not a link cut. The client's stream is the channel (client.link.stream)."""
    try:
        chan = ssh.get_transport().open_session(timeout=hello_timeout)
        chan.exec_command(command)
    except Exception as e:  # paramiko: SSHException / EOFError / OSError on a dying transport
        raise LinkError(f"{where}: cannot start the agent ({type(e).__name__}: {e})") from None
    stream = ChannelStream(chan, where)
    client = TargetClient(Link(stream, where, frame_timeout=5.0, retries=3, window=64),
                          invoke_timeout=INVOKE_FIRST_S)
    try:
        facts = client.hello(hello_timeout)
    except (LinkError, TargetTimeout) as e:
        if _exited(chan):
            raise TargetError(f"{where}: the agent did not start ({command}){stream.stderr_tail()}") from None
        raise LinkError(str(e)) from None
    if facts.get("error"):
        stream.close()
        raise TargetError(f"{where}: {facts['error']} (or: harness doctor --target {target} --install-runtime)")
    return client


def _exited(chan, wait: float = 2.0) -> bool:
    """Has the remote command ended? sshd sends the channel's EOF a moment before the exit status:
    after an EOF, wait up to `wait` s for it (else a command that never started reads as a cut link)."""
    end = time.monotonic() + (wait if chan.eof_received else 0.0)
    while not (chan.exit_status_ready() or chan.closed):
        if time.monotonic() >= end:
            return False
        time.sleep(0.01)
    return True


def close_quietly(client: TargetClient | None) -> None:
    """Close the agent's channel; a dead channel must not raise."""
    if client is None:
        return
    try:
        client.link.stream.close()
    except Exception:  # closing a dead channel must not raise
        pass
