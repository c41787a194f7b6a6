"""`harness doctor --target`: the board's missing pieces, each with the command that installs it."""

from __future__ import annotations

import pytest

from harness.drivers.ssh import doctor as ssh_doctor
from harness.errors import TargetError


def test_complete_board_has_no_problems(make_target):
    assert ssh_doctor.remote_check(make_target()) == []


def test_missing_runtime_names_the_pip_command(make_target):
    problems = ssh_doctor.remote_check(make_target(runtime="ai-edge-litert"))
    if not problems:  # this machine happens to have ai-edge-litert installed
        return
    assert "ai-edge-litert missing" in problems[0] and "pip install --user" in problems[0]


def test_missing_python_says_how_to_install(make_target):
    problems = ssh_doctor.remote_check(make_target(python="/nonexistent/python3"))
    assert len(problems) == 1 and "apt-get install -y python3" in problems[0]


def test_problem_texts_for_an_old_board():
    from harness.drivers.ssh.options import SshOptions

    o = SshOptions(host="pi", python="python3")
    facts = {"python": "3.11.2", "pip": "23.0", "numpy": "2.1.0", "runtime": None, "managed": True,
             "runtime_error": "ModuleNotFoundError: No module named 'tflite_runtime'"}
    found = ssh_doctor.problems_of(o, facts)
    assert any("numpy 2.1.0 breaks" in p and "--break-system-packages 'numpy<2'" in p for p in found)
    assert any("tflite-runtime==2.14.0" in p for p in found)


def test_install_runtime_failure_is_one_line(make_target, emu_python):
    # the emulated board has no pip: the pip command's own complaint comes back, in one line
    with pytest.raises(TargetError, match="pip install --user.*failed: .*No module named pip") as e:
        ssh_doctor.install_runtime(make_target(python=emu_python))
    assert "\n" not in str(e.value)
