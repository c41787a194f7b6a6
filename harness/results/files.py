"""Files of a run directory, written atomically (temporary name, fsync, rename) and read with
one-line errors: JSON, .npz written whole or piece by piece (write_npz_streamed), .npz read key
by key (read_npz). Nothing here holds a whole run in memory."""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from ..errors import HarnessError, ResultsError

# What numpy raises on a file that is not a readable .npy/.npz (empty, not a zip, torn, pickled, huge).
NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, MemoryError)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: Path) -> Iterator[io.BufferedWriter]:
    """A file written under a temporary name, fsync'd, then renamed: readers never see half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(tmp, "wb")
    except OSError as e:
        raise ResultsError(f"{path}: cannot write ({e.strerror}); choose another --results dir") from None
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise ResultsError(f"{path}: cannot write ({e.strerror}); choose another --results dir") from None
        raise
    _fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes) -> None:
    with atomic_open(path) as f:
        f.write(data)


def write_text(path: Path, text: str) -> None:
    """UTF-8 text, atomically; a file name that is not UTF-8 (a str with surrogates) shows as \\xNN."""
    write_atomic(path, text.encode("utf-8", "backslashreplace"))


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, (json.dumps(obj, indent=2, sort_keys=False, default=jsonable) + "\n").encode())


def jsonable(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path, buf.getvalue())


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found; is this a run directory (results/<target>/<run-id>)?") from None
    except (OSError, ValueError) as e:
        raise ResultsError(f"{path}: unreadable ({e})") from None


def _unreadable(path: Path, e: BaseException) -> str:
    why = "too big to load" if isinstance(e, MemoryError) else (getattr(e, "strerror", None) or str(e)
                                                                 or type(e).__name__)
    return f"{path}: not a readable .npy/.npz file ({why.splitlines()[0][:120]})"


def load_arrays(path: Path, error: type[HarnessError], missing: str) -> dict[str, np.ndarray]:
    """{key: array} of an .npz, or {"x": array} of an .npy; `error` with one line when unreadable."""
    path = Path(path)
    if path.is_dir():
        raise error(f"{path}: is a directory, expected a .npy/.npz file")
    try:
        if path.suffix != ".npz":
            return {"x": np.load(path, allow_pickle=False)}
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("an .npy array in an .npz file")
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except NPZ_ERRORS as e:
        raise error(_unreadable(path, e)) from None


class NpzArrays(Mapping[str, np.ndarray]):
    """An .npz read key by key on first use: whoever needs `times_ns` never loads `inputs_0`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: dict[str, np.ndarray] = {}
        with self._open() as z:
            self._keys = list(z.files)

    @contextlib.contextmanager
    def _open(self) -> Iterator[Any]:
        try:
            with np.load(self.path, allow_pickle=False) as z:
                yield z
        except FileNotFoundError:
            raise ResultsError(f"{self.path}: not found; the run did not finish this model (try --resume)") from None
        except NPZ_ERRORS as e:
            raise ResultsError(_unreadable(self.path, e)) from None

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._cache:
            with self._open() as z:
                self._cache[key] = z[key]
        return self._cache[key]

    def __contains__(self, key: object) -> bool:
        return key in self._keys  # without loading the array

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def read_npz(path: Path) -> NpzArrays:
    return NpzArrays(path)


def _npy_header(f, dtype: np.dtype, shape: tuple[int, ...]) -> None:
    d = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    try:
        np.lib.format.write_array_header_1_0(f, d)
    except ValueError:  # a header over 64 KiB
        np.lib.format.write_array_header_2_0(f, d)


def write_npz_streamed(path: Path, columns: Iterable[tuple[str, int, Callable[[], Iterable[np.ndarray]]]]) -> None:
    """An .npz (the layout np.savez writes) whose arrays are written piece by piece: memory is one piece.

    `columns` gives (key, rows, pieces): pieces() yields arrays of one dtype and row shape whose
    lengths add up to `rows`."""
    with atomic_open(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, rows, pieces in columns:
            with zf.open(f"{key}.npy", "w", force_zip64=True) as w:
                dtype, written = None, 0
                for p in pieces():
                    if dtype is None:
                        dtype = p.dtype
                        _npy_header(w, dtype, (rows, *p.shape[1:]))
                    w.write(np.ascontiguousarray(p, dtype=dtype).data)
                    written += len(p)
                if written != rows:
                    raise ResultsError(f"{path}: {key} has {written} rows, expected {rows}; a part file is damaged")
