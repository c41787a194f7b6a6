"""Config files: unknown keys, wrong types and missing files name the file and the key."""

import pytest

from harness.core.config import load_bench, load_target
from harness.drivers import driver_class
from harness.errors import ConfigError


def test_shipped_targets_and_configs_load():
    assert load_target("host").kind == "host"
    cfg = load_bench("default")
    assert cfg.models and cfg.runs > 0


def test_unknown_key_names_file_and_key(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("models: []\nrunz: 3\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: unknown key 'runz'"):
        load_bench(str(p))


def test_wrong_type_names_nested_key(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("tolerances: {max_lsb: lots}\n")
    with pytest.raises(ConfigError, match=r"c\.yaml\.tolerances\.max_lsb: expected int"):
        load_bench(str(p))


def test_model_entry_unknown_key(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("models:\n  - {path: a.tflite, flaot: b.tflite}\n")
    with pytest.raises(ConfigError, match=r"models\[0\]: unknown key 'flaot'"):
        load_bench(str(p))


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="unknown target 'nope'.*known targets: .*host"):
        load_target("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_bench(str(bad))


def test_unknown_kind_lists_kinds():
    with pytest.raises(ConfigError, match="unknown target kind 'toaster'; known kinds: .*host"):
        driver_class("toaster")


def test_missing_runtime_says_how_to_install():
    import importlib.util

    from harness.runtimes.interpreters import interpreter_module

    if importlib.util.find_spec("ai_edge_litert") is not None:
        assert interpreter_module("ai-edge-litert").__name__.startswith("ai_edge_litert")
    else:
        with pytest.raises(ConfigError, match="not installed.*pip install"):
            interpreter_module("ai-edge-litert")
