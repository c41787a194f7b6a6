"""labgrid's command-line client as a small API: places, acquire/release, resources, power, flash.

Why `labgrid-client` (run as `python -m labgrid.remote.client`) rather than labgrid's Python
session (labgrid.remote.client.start_session / ClientSession) in our process:
- the CLI is labgrid's user interface and kept its commands and output across the crossbar to gRPC
  rewrite (labgrid 24 -> 25), which replaced the Python internals; ClientSession's methods read
  an argparse namespace and are not meant as an API;
- gRPC's threads and event loop stay out of our process, which forks QEMU, ser2net and the
  reference interpreters' child processes (gRPC is not fork-safe);
- a release after Ctrl-C or an error is one fresh process, whatever state our own event loop or
  threads are in.
Cost: about 0.5 s per command on this machine, paid a few times per run, never per inference.
Every command runs in its own process group with a timeout, and is killed if we are interrupted.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field

import yaml

from ...errors import ConfigError, TargetError

DEFAULT_PORT = 20408  # labgrid >= 25: the coordinator's gRPC port
_STRIP_ENV = ("LG_ENV", "LG_STATE", "LG_INITIAL_STATE", "LG_PLACE", "PLACE", "STATE", "LG_PROXY")


class PlaceBusy(TargetError):
    """The place is acquired by someone else (or reserved for someone else)."""

    def __init__(self, msg: str, holder: str = "") -> None:
        super().__init__(msg)
        self.holder = holder


class LabgridUnavailable(TargetError):
    """The coordinator cannot be reached, or the place's exporter is gone."""


@dataclass(frozen=True)
class PlaceState:
    """One place as the coordinator describes it (`labgrid-client -v places`)."""

    name: str
    tags: dict = field(default_factory=dict)
    acquired: str | None = None  # "host/user" of the holder
    reservation: str | None = None
    matches: tuple[str, ...] = ()


def coordinator_address(value: str | None) -> str:
    """HOST[:PORT] from the option, else LG_COORDINATOR, else 127.0.0.1:20408 (labgrid's default)."""
    addr = value or os.environ.get("LG_COORDINATOR") or f"127.0.0.1:{DEFAULT_PORT}"
    host, _, port = addr.rpartition(":") if addr.count(":") == 1 else (addr, "", "")
    if port and not port.isdigit():
        raise ConfigError(f"labgrid coordinator {addr!r}: the port must be a number (HOST:PORT)")
    return addr if port else f"{addr}:{DEFAULT_PORT}"


def identity() -> str:
    """Who labgrid says holds a place we acquire: host/user (LG_HOSTNAME, LG_USERNAME override)."""
    return f"{os.environ.get('LG_HOSTNAME', socket.gethostname())}/{os.environ.get('LG_USERNAME', getpass.getuser())}"


def parse_places(text: str) -> dict[str, PlaceState]:
    """The output of `labgrid-client -v places` (Place.show() per place) as PlaceStates."""
    places: dict[str, dict] = {}
    cur: dict | None = None
    section = ""
    for line in text.splitlines():
        if line.startswith("Place '") and line.endswith("':"):
            cur = places.setdefault(line[7:-2], {"matches": []})
            section = ""
            continue
        if cur is None or not line.startswith("  "):
            continue
        body = line.strip()
        if line.startswith("    "):
            if section == "matches":
                cur["matches"].append(body)
            continue
        key, _, value = body.partition(":")
        section = key
        value = value.strip()
        if key == "tags" and value:
            cur["tags"] = dict(kv.split("=", 1) for kv in value.split(", ") if "=" in kv)
        elif key == "acquired":
            cur["acquired"] = None if value == "None" else value
        elif key == "reservation":
            cur["reservation"] = value or None
    return {name: PlaceState(name, d.get("tags", {}), d.get("acquired"), d.get("reservation"),
                             tuple(d["matches"])) for name, d in places.items()}


class LabgridClient:
    """One coordinator. No I/O in the constructor: every method runs one labgrid-client command."""

    def __init__(self, coordinator: str | None = None, env_file: str | None = None, timeout: float = 60.0) -> None:
        self.address = coordinator_address(coordinator)
        self.env_file = env_file
        self.timeout = timeout

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in _STRIP_ENV}
        env["LG_COORDINATOR"] = self.address
        return env

    def run(self, *args: str, place: str | None = None, timeout: float | None = None) -> str:
        """stdout of `labgrid-client -x ADDR [-c ENV] [-p PLACE] ARGS`; TargetError with its message."""
        cmd = [sys.executable, "-m", "labgrid.remote.client", "-x", self.address]
        if self.env_file:
            cmd += ["-c", self.env_file]
        if place is not None:
            cmd += ["-p", place]
        cmd += list(args)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=self._env(), start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout or self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise LabgridUnavailable(f"labgrid coordinator {self.address}: `labgrid-client {' '.join(args)}` "
                                     f"did not finish within {timeout or self.timeout:g} s") from None
        except BaseException:  # Ctrl-C: the command must not outlive us
            _kill_group(proc)
            raise
        if proc.returncode != 0:
            raise self._error(args, place, (err or out).strip())
        return out

    def _error(self, args, place, text: str) -> TargetError:
        last = [ln for ln in text.splitlines() if ln.strip()]
        msg = last[-1].removeprefix("labgrid-client: ").removeprefix("Error: ") if last else "(no message)"
        where = f"labgrid place {place}" if place else f"labgrid coordinator {self.address}"
        if "Could not connect" in text or "failed to connect" in text.lower() or "UNAVAILABLE" in text:
            return LabgridUnavailable(f"labgrid coordinator {self.address} is not reachable; start it or set "
                                      f"LG_COORDINATOR / options.coordinator ({msg})")
        if "orphaned resource" in text or "has no matching remote resource" in text:
            return LabgridUnavailable(f"{where}: its exporter is gone or does not export the matched resources "
                                      f"({msg}); check `labgrid-client -p {place} show`")
        if "already acquired by" in text or "was not reserved for" in text or "already acquired" in text:
            return PlaceBusy(f"{where}: {msg}", _holder(text))
        if "matches nothing" in text:
            return ConfigError(f"{where}: no such place on the labgrid coordinator {self.address}; "
                               "list them with labgrid-client places")
        return TargetError(f"{where}: labgrid-client {args[0]} failed: {msg}")

    # ---- queries ----
    def places(self) -> dict[str, PlaceState]:
        return parse_places(self.run("-v", "places"))

    def place(self, name: str) -> PlaceState:
        """One place by name, or `+TOKEN` / `+` (LG_TOKEN): the place of a reservation, as labgrid-client."""
        places = self.places()
        if name.startswith("+"):
            token = name[1:] or os.environ.get("LG_TOKEN", "")
            found = [p for p in places.values() if token and p.reservation == token]
            if not found:
                raise ConfigError(f"labgrid coordinator {self.address}: no place is allocated to reservation "
                                  f"{token or '(LG_TOKEN unset)'}; wait for it (labgrid-client wait {token})")
            return found[0]
        if name not in places:
            known = ", ".join(sorted(places)) or "none"
            raise ConfigError(f"labgrid coordinator {self.address}: no place {name!r}; places: {known}")
        return places[name]

    def resources(self, place: str) -> list[tuple[str, dict]]:
        """The acquired place's resources as (class, params) pairs (`labgrid-client env`)."""
        doc = yaml.safe_load(self.run("env", place=place)) or {}
        targets = doc.get("targets") or {}
        out = []
        for target in targets.values():
            for entry in (target or {}).get("resources") or []:
                for cls, params in entry.items():
                    out.append((cls, dict(params or {})))
        return out

    # ---- actions ----
    def acquire(self, place: str) -> None:
        self.run("acquire", place=place)

    def release(self, place: str, kick: bool = False) -> None:
        self.run("release", *(["--kick"] if kick else []), place=place)

    def power(self, place: str, action: str, delay: float | None = None) -> str:
        extra = ["-t", f"{delay:g}"] if delay is not None and action == "cycle" else []
        return self.run("power", action, *extra, place=place)

    def bootstrap(self, place: str, image: str) -> None:
        """Flash/boot `image` through the place's BootstrapProtocol driver (OpenOCD, …)."""
        self.run("bootstrap", image, place=place, timeout=max(self.timeout, 300.0))


def _holder(text: str) -> str:
    marker = "acquired by "
    i = text.rfind(marker)
    return text[i + len(marker):].split()[0].rstrip(".") if i >= 0 else ""


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
