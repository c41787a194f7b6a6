"""targets/<board>.yaml `options:` for kind ssh, with HB_* environment overrides and ~/.ssh/config.

Precedence: environment (HB_HOST, HB_PORT, HB_USER, HB_KEY_FILE, … — one per option, upper case)
> the target file > ~/.ssh/config (Host entries, as OpenSSH) > defaults.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import typing
from dataclasses import dataclass
from pathlib import Path

from ...core.config import TargetConfig

from ...core.schema import check_value, field_checks, load_dataclass, opt
from ...core.paths import ROOT
from ...core.tflite import RUNTIME_MODULES
from ...errors import ConfigError

RUNTIMES = tuple(RUNTIME_MODULES)
KERNELS = ("optimized", "reference", "xnnpack")


@dataclass(frozen=True)
class SshOptions:
    """None means: take it from ~/.ssh/config, else the OpenSSH default."""

    host: str = ""
    port: int | None = opt(None, min=1, max=65535)
    user: str | None = None
    key_file: str | None = None  # None: ssh-agent, then ~/.ssh/config IdentityFile, then ~/.ssh/id_*
    known_hosts: str | None = None  # None: ~/.ssh/config UserKnownHostsFile, else ~/.ssh/known_hosts
    accept_new_host_key: bool = False  # record an unknown host key (OpenSSH accept-new); changed keys never
    connect_timeout: float = opt(10.0, above=0, max=3600)
    remote_dir: str = "~/.cache/harness-bench"
    python: str = "python3"
    runtime: str = opt("tflite-runtime", choices=RUNTIMES)
    kernels: str = opt("optimized", choices=KERNELS)
    threads: int = opt(1, min=1, max=1024)
    cpu_pin: int | None = opt(None, min=0, max=4095, hint="run the agent under `taskset -c N`")
    ssh_config: str = "~/.ssh/config"
    reconnect_s: float = opt(60.0, min=0, max=86_400, hint="how long a cut link may stay down before the run fails")


def _from_env(field: dataclasses.Field, hint, text: str, name: str):
    """An HB_* string converted to the option's type, or a ConfigError naming the variable."""
    kinds = [h for h in typing.get_args(hint) if h is not type(None)] or [hint]
    kind = kinds[0]
    try:
        if kind is bool:
            if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError
            return text.lower() in ("1", "true", "yes")
        if text == "" and type(None) in typing.get_args(hint):
            return None
        return kind(text)
    except ValueError:
        raise ConfigError(f"environment {name}={text!r}: expected {kind.__name__} for option {field.name}") from None


def _expand(path: str | None, base: Path) -> str | None:
    """~ and relative paths (relative to the repository, like the target files themselves)."""
    if not path:
        return path
    p = Path(os.path.expanduser(path))
    return str(p if p.is_absolute() else base / p)


def resolve(target: TargetConfig, environ: typing.Mapping[str, str] | None = None) -> SshOptions:
    """The options in force for `target`, validated; ConfigError names the file, key or variable."""
    where = f"{target.path or target.name}: options"
    opts = load_dataclass(SshOptions, target.options, where)
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(SshOptions)
    changes = {}
    for f in dataclasses.fields(SshOptions):
        name = f"HB_{f.name.upper()}"
        if name in env:
            changes[f.name] = _from_env(f, hints[f.name], env[name], name)
            check_value(field_checks(SshOptions).get(f.name), changes[f.name], f"environment {name}")
    opts = dataclasses.replace(opts, **changes)
    if not opts.host:
        raise ConfigError(f"{where}.host: no host; set it in the file or pass HOST=… (HB_HOST)")
    return _with_ssh_config(opts)


def _with_ssh_config(opts: SshOptions) -> SshOptions:
    """Fill unset options from ~/.ssh/config the way OpenSSH would (Host patterns, HostName…)."""
    import paramiko

    cfg_path = Path(os.path.expanduser(opts.ssh_config))
    entry: dict = {}
    if cfg_path.is_file():
        try:
            entry = paramiko.SSHConfig.from_path(str(cfg_path)).lookup(opts.host)
        except Exception as e:  # paramiko raises several kinds on a bad file
            raise ConfigError(f"{cfg_path}: cannot parse ({e})") from None
    ids = entry.get("identityfile") or []
    return dataclasses.replace(
        opts,
        host=entry.get("hostname", opts.host),
        port=opts.port or int(entry.get("port", 22)),
        user=opts.user or entry.get("user") or getpass.getuser(),
        key_file=_expand(opts.key_file, ROOT) or (_expand(ids[0], ROOT) if ids else None),
        known_hosts=_expand(opts.known_hosts or (entry.get("userknownhostsfile") or "").split(" ")[0]
                            or "~/.ssh/known_hosts", ROOT),
    )
