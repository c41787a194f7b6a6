"""The package's shape, kept true by tests: imports only point down the layers of
docs/architecture.md, no file or function grows past the house sizes (GUIDE: small files and
functions), constructors do no I/O, bench/ and tools/ import nothing from tests/, and the README's
layout lists every package. They read the sources with ast; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "harness"

# Bottom to top; a module may import from its own layer's package and from the layers below.
LAYERS = [
    {"__init__", "errors", "deadline", "proc"},  # plain utilities, no harness imports but errors
    {"core"},  # TensorSpec, dtypes, the .tflite reader and verifier, configs
    {"protocol"},  # wire (stdlib-only, shipped), link, streams, the one client
    {"agent"},  # the board-side server (protocol.wire and core.tflite only)
    {"runtimes"},  # this machine's interpreters, in worker processes
    {"drivers", "doctor"},  # one kind of target each; open and recover a stream
    {"results"},  # the run directory's files
    {"analysis"},  # metrics, calibration, per-layer, attribution, compare, regression
    {"report", "ui"},  # document model and writers; ui writes the terminal (progress, summary)
    {"run"},  # bench, jobs, inputs, references, sweeps, recipes, the lab fan-out
    {"locallab", "pytest_plugin"},  # a labgrid lab on loopback; the lab suites' fixtures
    {"cli", "cli_parser", "__main__"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 50


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _module(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(path: Path):
    """(line, imported harness module parts) of every import that runs (not under TYPE_CHECKING)."""
    mod = _module(path)
    package = mod if path.name == "__init__.py" else mod[:-1]
    tree = ast.parse(path.read_text())
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node)
            for b in node.body for n in ast.walk(b)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            for alias in node.names:
                yield node.lineno, base + node.module.split(".") if node.module else _submodule(base, alias.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "harness":
            yield node.lineno, node.module.split(".")
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, a.name.split(".")) for a in node.names if a.name.split(".")[0] == "harness")


def _submodule(package: list[str], name: str) -> list[str]:
    """`from package import name`: the module package.name if there is one, else the package."""
    where = PACKAGE.parent.joinpath(*package, name)
    return package + [name] if where.is_dir() or where.with_suffix(".py").is_file() else package


def _layer(parts: list[str]) -> int:
    name = parts[1] if len(parts) > 1 else "__init__"
    assert name in LAYER, f"harness.{name} is in no layer: add it to LAYERS here and to docs/architecture.md"
    return LAYER[name]


def test_every_package_has_a_layer():
    for path in _sources():
        _layer(_module(path))


def test_imports_only_point_down():
    up = []
    for path in _sources():
        mine = _module(path)
        for line, target in _imports(path):
            if target[:2] != mine[:2] and _layer(target) > _layer(mine):
                up.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {'.'.join(target)}")
    assert not up, "imports pointing up a layer:\n" + "\n".join(up)


def test_the_shipped_agent_imports_only_shipped_files():
    """The board gets the files of harness.agent.SHIPPED and nothing else (no numpy at import either)."""
    from harness.agent import SHIPPED

    shipped = {tuple(Path(p).with_suffix("").parts) for p in SHIPPED}
    for rel in SHIPPED:
        for line, target in _imports(PACKAGE.parent / rel):
            assert tuple(target) in shipped or (*target, "__init__") in shipped, f"{rel}:{line} imports {target}"


def _long_functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                yield f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}() is {n} lines"


@pytest.mark.parametrize("what", ["files", "functions"])
def test_small_files_and_functions(what):
    if what == "files":
        big = [f"{p.relative_to(PACKAGE.parent)} is {n} lines" for p in _sources()
               if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES]
    else:
        big = [line for p in _sources() for line in _long_functions(p)]
    assert not big, f"over {MAX_FILE_LINES if what == 'files' else MAX_FUNCTION_LINES} lines:\n" + "\n".join(big)


def test_the_readme_layout_lists_every_package():
    """README.md's layout section names exactly the subpackages of harness/ (in its harness/ block)."""
    text = (PACKAGE.parent / "README.md").read_text()
    block = text.split("## Layout", 1)[1].split("\n## ", 1)[0].split("harness/\n", 1)[1].split("firmware/", 1)[0]
    listed = {line.split()[0].rstrip("/") for line in block.splitlines() if line.strip().split()[0].endswith("/")}
    assert listed == {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}


IO_CALLS = {"run", "Popen", "check_output", "check_call", "open", "connect", "socket", "serial_for_url", "urlopen",
            "sleep", "exec_command", "read_bytes", "read_text", "write_bytes", "write_text", "mkdir"}


def test_no_io_in_constructors():
    """A constructor only keeps what it is given: connecting, building, reading files is open()'s or a
    classmethod's work (a driver made to check its options must not start QEMU or run make)."""
    found = []
    for path in _sources():
        for cls in (n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ClassDef)):
            for f in (f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"):
                found += [f"{path.relative_to(PACKAGE.parent)}:{c.lineno} {cls.name}.__init__ calls {name}()"
                          for c in ast.walk(f) if isinstance(c, ast.Call)
                          and (name := getattr(c.func, "attr", getattr(c.func, "id", ""))) in IO_CALLS]
    assert not found, "\n".join(found)


def test_bench_and_tools_import_nothing_from_tests():
    found = []
    for folder in ("bench", "tools", "harness"):
        for path in sorted((PACKAGE.parent / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
                found += [f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {n}" for n in names
                          if n.split(".")[0] == "tests"]
    assert not found, "\n".join(found)
