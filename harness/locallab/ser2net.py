"""A real ser2net (Debian package, 4.x YAML configuration) publishing a tty as RFC 2217 on 127.0.0.1.

labgrid's exporter starts ser2net the same way for a USBSerialPort (accepter
`telnet(rfc2217,mode=server)`, connector `serialdev(nouucplock=true),<tty>,<speed>n81,local`), but
listens on every interface; the lab on this machine binds 127.0.0.1 and is exported as a static
NetworkSerialPort instead (docs/lab.md). Checked with ser2net 4.3.11: the pty is binary-clean
both ways; RFC 2217 clients must not wait for modem-control answers (a pty has no DTR/RTS), so
the URL carries `?ign_set_control`, as labgrid's SerialDriver does.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..proc import die_with_parent


def config(name: str, port: int, tty: Path, speed: int = 115200) -> str:
    """ser2net.yaml for one port: RFC 2217 on 127.0.0.1:port ⇄ the tty."""
    return (f"connection: &{name}\n"
            f"  accepter: telnet(rfc2217,mode=server),tcp,127.0.0.1,{port}\n"
            f"  connector: serialdev(nouucplock=true),{tty},{speed}n81,local\n"
            "  options:\n"
            "    max-connections: 1\n"
            "    kickolduser: true\n")


def start(name: str, port: int, tty: Path, directory: Path) -> subprocess.Popen:
    """ser2net in the foreground (-n), ending with us (PR_SET_PDEATHSIG); its log in directory."""
    binary = shutil.which("ser2net") or "/usr/sbin/ser2net"
    if not Path(binary).exists():
        raise SystemExit("ser2net not found: apt-get install ser2net (make lab-demo installs it)")
    cfg = directory / "ser2net.yaml"
    cfg.write_text(config(name, port, tty))
    log = open(directory / "ser2net.log", "wb")
    try:
        return subprocess.Popen([binary, "-n", "-d", "-c", str(cfg), "-P", str(directory / "ser2net.pid")],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=die_with_parent)
    finally:
        log.close()
