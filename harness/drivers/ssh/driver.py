"""Linux boards (Raspberry Pi) over SSH: one agent process per run, spoken to over one exec channel.

open() connects (verified host key), pushes the agent unless that version is cached on the board,
starts it once (`python3 -m harness.agent …`) and reads its HELLO. load() pushes the model over SFTP into
the sha256-keyed cache and the agent loads it from there. run() sends inputs, INVOKE 1 and
GET_OUTPUT for a batch of inferences per round trip; times are perf_counter_ns around invoke()
on the board. A cut connection reconnects, restarts the agent, reloads (from the cache) and
resumes at the first inference whose outputs had not arrived: the outputs equal an
uninterrupted run's.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from ...agent import shipped_files
from ...core.model import inspect
from ...deadline import Deadline
from ...errors import LinkError, TargetError, TargetTimeout
from .. import register
from ..base import Driver, LoadInfo, RunResult, TargetInfo
from . import conn as ssh_conn
from .launch import close_quietly, start_agent
from .doctor import install_runtime, remote_check  # harness doctor --target
from .options import SshOptions, resolve

__all__ = ["SshDriver", "install_runtime", "remote_check"]


MAX_CUTS_AT_ONE_PLACE = 3
BATCH = 32  # inferences per window; a cut link loses at most this much work
_PER_HELLO = ("nonce", "boot", "pid", "peak_rss_bytes")  # change every HELLO: not facts about the board
_THERMAL = ("temperature_c", "throttled", "clock_hz", "governor")


@register("ssh")
class SshDriver(Driver):
    """One board over paramiko; see the module docstring."""

    options_class = SshOptions

    def preflight(self) -> None:
        ssh_conn.check_key_file(resolve(self.target))

    def open(self) -> TargetInfo:
        self.o: SshOptions = resolve(self.target)
        self.client = self.cache = self.agent = None
        self.where = f"{self.target.name} ({self.o.user}@{self.o.host}:{self.o.port})"
        self.reconnects = 0
        self.progress = 0  # inferences finished in the current run() (tests cut the link on it)
        self.facts_sent = {"agent": 0}
        self._model: tuple[bytes, str] | None = None
        facts = self._start()
        return TargetInfo(name=self.target.name, kind="ssh", board=facts.get("board", ""), cpu=facts.get("cpu", ""),
                          time_unit="ns", clock_hz=facts.get("clock_hz") or None, boot_id=facts.get("boot_id", ""),
                          facts={**{k: v for k, v in facts.items() if k not in _PER_HELLO},
                                 "host": self.o.host, "transport": "ssh"})

    def _start(self) -> dict:
        """Connect, push the agent if needed, start it once, HELLO."""
        self.client = ssh_conn.connect(self.o)
        self.cache = ssh_conn.RemoteCache(self.client, self.o)
        self.cache.uploaded = self.watcher.uploaded
        agent_dir, sent = self.cache.agent(shipped_files())
        self.facts_sent["agent"] = sent
        command = ssh_conn.agent_command(self.o, agent_dir, f"{self.cache.root}/models")
        self.agent = start_agent(self.client, command, self.where, 60.0 + self.o.connect_timeout, self.target.name)
        self.agent.inferred = self._inferred
        return self.agent.facts

    def load(self, model: bytes, name: str) -> LoadInfo:
        info = inspect(model, name)
        t0 = time.perf_counter()
        self._model = (model, name)
        try:
            self.watcher.phase("upload")
            path, sent = self.cache.model(model, name)
            self.agent.load(model)
            plan = self.agent.plan
        except (LinkError, TargetTimeout) as e:  # cut while loading: reconnecting loads it again
            plan = self._reconnect(e, f"loading {name}")
            path, sent = self.cache.model(model, name)[0], None  # None: split across connections
        load_s = time.perf_counter() - t0
        return LoadInfo(info.sha256, load_s, info.inputs, info.outputs,
                        facts={"uploaded_bytes": sent, "cached": sent == 0, "remote_path": path,
                               "kernels": self.o.kernels, "tensors": plan["tensors"], "ops": plan["ops"],
                               "board_now": self._board_now()})

    def memory(self) -> dict[str, int]:
        """The agent's peak RSS so far (a brief HELLO after the model's runs): the process that ran this
        model, and any model before it on the same connection."""
        try:
            rss = self.agent.link.hello(10.0 + self.o.connect_timeout).get("peak_rss_bytes")
        except (LinkError, TargetTimeout):
            return {}
        return {"peak_rss_bytes": rss} if isinstance(rss, int) else {}

    def _board_now(self) -> dict:
        """Temperature, clock and throttling as each model starts (a Pi heats up over a long run)."""
        try:
            facts = self.agent.hello(10.0 + self.o.connect_timeout)
        except (LinkError, TargetTimeout):
            return {}  # only a record: a cut here is handled by the next request
        return {k: facts.get(k) for k in _THERMAL}

    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        if not self._model:
            raise TargetError(f"{self.where}: run() before load()")
        rows = self.agent.check_inputs(inputs, self.where)
        n = len(rows[0])
        outs, ticks = self.agent.output_arrays(n), np.zeros(n, np.int64)
        self.progress = done = 0
        retries, cuts_here, base = 0, 0, self.agent.retries  # frames re-sent during this run, reconnects
        while done < n:
            agent, stop = self.agent, min(n, done + BATCH)
            try:
                got = agent.run_batch(rows, done, stop, outs, ticks)
                done += got
                self.progress, cuts_here = done, 0
            except (LinkError, TargetTimeout) as e:
                done += getattr(e, "done", 0)
                retries += agent.retries - base + 1
                cuts_here, base = cuts_here + 1, 0
                if cuts_here > MAX_CUTS_AT_ONE_PLACE:  # not the network: the agent dies on these inputs
                    raise TargetError(f"{self.where}: the agent died {cuts_here} times running inferences "
                                      f"{done}..{stop - 1}: {e}") from None
                self._reconnect(e, f"after {done} of {n} inferences")
        return RunResult(outs, ticks, retries=retries + self.agent.retries - base)

    def _reconnect(self, why: Exception, when: str) -> dict:
        """The link broke: bring the agent and the model back; the model's plan."""
        deadline = Deadline(self.o.reconnect_s)
        last: Exception = why
        while True:
            self._drop()
            try:
                self._start()
                self.cache.model(*self._model)  # a no-op unless the cache was wiped meanwhile
                self.agent.load(self._model[0])
                self.reconnects += 1
                plan = self.agent.plan
                return plan
            except (LinkError, TargetTimeout) as e:
                last = e
            if deadline.expired():
                raise LinkError(f"{self.where}: link lost {when} and not back within "
                                f"{self.o.reconnect_s:g} s (reconnect_s): {last}")
            time.sleep(min(0.5, deadline.remaining()))

    def tensors(self, inputs: Sequence[np.ndarray]) -> dict[int, np.ndarray]:
        """Every tensor after one inference of `inputs` (one sample per input), from the board."""
        try:
            return self.agent.tensors(inputs)
        except (LinkError, TargetTimeout) as e:
            self._reconnect(e, "reading tensors")
            return self.agent.tensors(inputs)

    def _drop(self) -> None:
        close_quietly(self.agent)
        if self.cache is not None:
            self.cache.close()
        if self.client is not None:
            self.client.close()
        self.client = self.cache = self.agent = None

    def close(self) -> None:
        if getattr(self, "o", None) is not None:
            self._drop()
