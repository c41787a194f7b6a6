"""Numbers a reader can trust: a figure that is not exact never prints as 100 (or 0, or 1), and
every exactness claim comes with its counts ("2 of 128 000 elements in 2 of 200 samples").

Used by every writer of figures: report.md/html (through doc.py), the verdict, `compare`, junit.xml.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

_EXACT_LOOKING = (0.0, 1.0, 100.0, -1.0, -100.0)


def count(n: int) -> str:
    """An integer with thousands grouped by spaces: 128 000."""
    return f"{int(n):,}".replace(",", " ")


def honest(v: float, digits: int = 4) -> str:
    """`v` to `digits` significant digits — unless that rounds a value that is not exactly 0, ±1 or
    ±100 onto one of them; then as many digits as it takes to show that it is not."""
    s = f"{v:.{digits}g}"
    if float(s) == v or float(s) not in _EXACT_LOOKING:
        return s
    for d in range(digits + 1, 18):
        s = f"{v:.{d}g}"
        if float(s) not in _EXACT_LOOKING:
            return s
    return repr(v)


def percent(v: float | None) -> str:
    """A percentage: two decimals, more when needed so that only exact 0 and 100 print as such."""
    if v is None:
        return "–"
    if float(v).is_integer():
        return str(int(v))
    for d in range(2, 17):
        s = f"{v:.{d}f}"
        if float(s) not in _EXACT_LOOKING:
            return s
    return repr(v)


def share(part: int, whole: int) -> str:
    """part / whole in %, from the counts themselves: 100 only when part == whole, 0 only when 0."""
    if not whole:
        return "–"
    if part in (0, whole):
        return "0" if part == 0 else "100"
    with localcontext() as ctx:
        ctx.prec = 50
        q = Decimal(100 * part) / Decimal(whole)
        for d in range(2, 45):
            s = f"{q:.{d}f}"
            if Decimal(s) not in (0, 100):
                return s
    return str(q)


def exact_share(e: dict) -> str:
    """The exact-match percentage of a metrics.exactness / lsb_drift dict, from its counts."""
    return share(e["elements"] - e["differing"], e["elements"]) if "differing" in e else percent(e.get("exact_pct"))


def differing(e: dict, verb: str = "") -> str:
    """What differs, with its counts: "2 of 128 000 elements in 2 of 200 samples, max 1 LSB" or
    "none of 128 000 elements (200 samples)". `e` has elements, differing, samples and
    samples_differing (metrics.exactness or metrics.lsb_drift), and max_lsb / max_abs_float or max_abs.
    `verb` goes after the counts ("… samples differ, max 1 LSB")."""
    if not e.get("differing"):
        return f"none of {count(e.get('elements', 0))} elements ({count(e.get('samples', 0))} samples)"
    text = (f"{count(e['differing'])} of {count(e['elements'])} elements in "
            f"{count(e['samples_differing'])} of {count(e['samples'])} samples" + (f" {verb}" if verb else ""))
    return ", ".join([text, *_worst(e)])


def _worst(e: dict) -> list[str]:
    if "max_lsb" in e:
        lsb, flt = e["max_lsb"], e.get("max_abs_float")
    elif e.get("unit") == "float":
        lsb, flt = 0, e.get("max_abs")
    else:
        lsb, flt = e.get("max_abs", 0), None
    return ([f"max {lsb} LSB"] if lsb else []) + ([f"max |Δ| {honest(flt)}"] if flt else [])


def exactness_verdict(e: dict, who: str) -> str:
    """"bit-exact with <who> (…)" only when no bit of any output differs; "not bit-exact …" else."""
    if not e.get("differing"):
        return f"bit-exact with {who} ({count(e['elements'])} elements in {count(e['samples'])} samples)"
    return f"not bit-exact vs {who}: {differing(e, 'differ')}"


def number(v) -> str:
    """The one formatter of a figure in a table (report, compare, terminal): never e-notation for
    ordinary values (latencies of 19 250 µs print as such, not 1.925e+04), integers and values
    ≥ 1000 grouped by spaces, four significant digits below that — widened by `honest` so that a
    value that is not exactly 0, ±1 or ±100 never prints as one. None (not applicable) is "–"."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return count(v) if abs(v) >= 1000 else str(v)
    if not isinstance(v, float):
        return str(v)
    if v != v:
        return "nan"
    if abs(v) == float("inf"):
        return "∞" if v > 0 else "−∞"
    if abs(v) >= 1e15:
        return f"{v:.3e}"
    if v.is_integer() or abs(v) >= 999.95:
        return number(int(round(v)))
    if abs(v) >= 1e-4:
        return honest(v)
    if abs(v) >= 1e-6:  # small but ordinary (a float MAE): fixed notation, three significant digits
        digits = 2 - int(f"{abs(v):e}".split("e")[1])
        return f"{v:.{digits}f}".rstrip("0")
    return f"{v:.3g}"


def byte_size(n: float) -> str:
    """A size in decimal units, as the terminal summary prints it: 984 B, 1.3 kB, 82.8 kB, 2.5 MB."""
    for unit in ("B", "kB", "MB"):
        if abs(n) < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
