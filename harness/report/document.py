"""A tiny document model rendered to Markdown and to self-contained HTML, in the same order.

Beside headings, paragraphs, tables and images it knows what a report needs to lead with its answer:
a coloured verdict banner, anchored headings with a table of contents, table cells that link or carry
a status colour, bullet lists, and collapsed `<details>` for facts few readers need. Paragraphs may
hold Markdown links `[text](href)`; the HTML writer turns them into anchors."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field

from ..analysis.figures import number

STATUS_CLASS = {"PASS": "ok", "BIT-EXACT": "ok", "DRIFT": "drift", "UNCHECKED": "unchecked",
                "UNAVAILABLE": "unchecked", "FAILED": "bad", "REGRESSION": "bad"}
_INLINE = re.compile(r"\[([^\]\[]+)\]\(([^()\s]+)\)|`([^`]+)`")


@dataclass(frozen=True)
class Cell:
    """A table cell with a link (`href`) or a status colour (`status`, a key of STATUS_CLASS)."""

    text: str
    href: str | None = None
    status: str | None = None


@dataclass
class Doc:
    blocks: list[tuple] = field(default_factory=list)
    _anchors: set[str] = field(default_factory=set)

    def h(self, level: int, text: str, anchor: str | None = None) -> str:
        """A heading; returns its anchor (GitHub's slug rule, so Markdown links work there too) —
        or `anchor`, reserved earlier with anchor() for links that come before the heading."""
        anchor = anchor or self.anchor(text)
        self.blocks.append(("h", level, text, anchor))
        return anchor

    def anchor(self, text: str) -> str:
        base = _slug(text)
        slug, n = base, 0
        while slug in self._anchors:
            n += 1
            slug = f"{base}-{n}"
        self._anchors.add(slug)
        return slug

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def banner(self, status: str, text: str) -> None:
        """The run's overall verdict, first thing on the page, coloured by status."""
        self.blocks.append(("banner", status, text))

    def ul(self, items: list[str]) -> None:
        if items:
            self.blocks.append(("ul", list(items)))

    def table(self, headers: list[str], rows: list[list], id: str | None = None) -> None:
        self.blocks.append(("table", headers, [[_cell(c) for c in r] for r in rows], id))

    def img(self, png: bytes, alt: str) -> None:
        self.blocks.append(("img", png, alt))

    def toc(self) -> None:
        """A table of contents of the level-2 headings that follow."""
        self.blocks.append(("toc",))

    def details(self, summary: str) -> None:
        """Collapse what follows, up to end_details(), under a one-line summary."""
        self.blocks.append(("details", summary))

    def end_details(self) -> None:
        self.blocks.append(("/details",))

    def _toc_entries(self, start: int) -> list[tuple[str, str]]:
        return [(b[2], b[3]) for b in self.blocks[start:] if b[0] == "h" and b[1] == 2]

    def markdown(self) -> str:
        return "\n\n".join(_md_block(self, i, b) for i, b in enumerate(self.blocks)) + "\n"

    def html(self, title: str) -> str:
        body = "".join(_html_block(self, i, b) for i, b in enumerate(self.blocks))
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<style>{_CSS}</style></head><body>{body}</body></html>\n")


def _slug(text: str) -> str:
    """A heading's anchor by GitHub's rule, so that Markdown links to it work there too."""
    return re.sub(r"[^\w\- ]", "", text.lower()).strip().replace(" ", "-")


def _forge_slug(doc: Doc, i: int) -> str:
    """The anchor a forge gives heading `i` of the Markdown: its slug, -N for the N-th repeat."""
    base = _slug(doc.blocks[i][2])
    n = sum(1 for b in doc.blocks[:i] if b[0] == "h" and _slug(b[2]) == base)
    return f"{base}-{n}" if n else base


def _md_block(doc: Doc, i: int, b: tuple) -> str:
    kind = b[0]
    if kind == "h":  # an anchor the forge would not give this heading (a glossary entry) gets an <a id>
        return ("" if b[3] == _forge_slug(doc, i) else f'<a id="{b[3]}"></a>\n\n') + "#" * b[1] + " " + b[2]
    if kind == "p":
        return b[1]
    if kind == "banner":
        return f"> **{b[2]}**"
    if kind == "ul":
        return "\n".join(f"- {t}" for t in b[1])
    if kind == "toc":
        return "Contents: " + " · ".join(f"[{t}](#{a})" for t, a in doc._toc_entries(i + 1))
    if kind == "details":
        return f"<details><summary>{html.escape(b[1])}</summary>"
    if kind == "/details":
        return "</details>"
    if kind == "table":
        out = "| " + " | ".join(map(_md, b[1])) + " |\n|" + "---|" * len(b[1])
        return out + "".join("\n| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b[2])
    return f"*Plot in report.html: {b[2]}*"


def _html_block(doc: Doc, i: int, b: tuple) -> str:
    kind = b[0]
    if kind == "h":
        return f'<h{b[1]} id="{b[3]}">{html.escape(b[2])}</h{b[1]}>'
    if kind == "p":
        return f"<p>{_inline(b[1])}</p>"
    if kind == "banner":
        return f'<div id="verdict" class="verdict {STATUS_CLASS.get(b[1], "unchecked")}">{html.escape(b[2])}</div>'
    if kind == "ul":
        return "<ul>" + "".join(f"<li>{_inline(t)}</li>" for t in b[1]) + "</ul>"
    if kind == "toc":
        links = "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for t, a in doc._toc_entries(i + 1))
        return f'<nav id="contents"><b>Contents</b><ul>{links}</ul></nav>'
    if kind == "details":
        return f"<details><summary>{html.escape(b[1])}</summary>"
    if kind == "/details":
        return "</details>"
    if kind == "table":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in b[1])
        rows = "".join("<tr>" + "".join(_td(c) for c in r) + "</tr>" for r in b[2])
        ident = f' id="{b[3]}"' if b[3] else ""
        return f"<table{ident}><tr>{head}</tr>{rows}</table>"
    data = base64.b64encode(b[1]).decode()
    return f'<img alt="{html.escape(b[2])}" src="data:image/png;base64,{data}">'


_NUMERIC = re.compile(r"^[−\-+]?[\d ]+(\.\d+)?(e[+\-]\d+)?$|^[–∞]$")


def _td(c: str | Cell) -> str:
    if isinstance(c, Cell):
        inner = f'<a href="{html.escape(c.href)}">{html.escape(c.text)}</a>' if c.href else html.escape(c.text)
        cls = f' class="st {STATUS_CLASS.get(c.status, "unchecked")}"' if c.status else ""
        return f"<td{cls}>{inner}</td>"
    return f'<td class="n">{html.escape(c)}</td>' if _NUMERIC.match(c) else f"<td>{html.escape(c)}</td>"


def _inline(text: str) -> str:
    """Escaped text with Markdown links `[text](href)` as anchors and `code` as code."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        out.append(f'<a href="{html.escape(m.group(2))}">{html.escape(m.group(1))}</a>' if m.group(1) is not None
                   else f"<code>{html.escape(m.group(3))}</code>")
        pos = m.end()
    return "".join(out) + html.escape(text[pos:])


_CSS = ("body{font-family:system-ui,sans-serif;font-size:14px;max-width:1320px;margin:1em auto;padding:0 1em;"
        "color:#222;line-height:1.35}h1{font-size:1.35em;margin:.2em 0}h2{margin:1.2em 0 .4em;border-bottom:1px solid #ddd}"
        "p{margin:.5em 0}table{border-collapse:collapse;margin:.6em 0;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:1px 6px;text-align:left}#summary-table td{white-space:nowrap}"
        "td.n{text-align:right;white-space:nowrap}th{background:#f3f3f3;font-weight:600}img{display:block;margin:1em 0}"
        ".verdict{font-size:1.25em;font-weight:700;padding:.45em .8em;border-radius:4px;margin:.4em 0;border:2px solid}"
        ".ok{background:#e3f6e8;border-color:#1a7f37;color:#0f5323}.drift{background:#fff4d6;border-color:#b7791f;"
        "color:#6b4500}.unchecked{background:#eef1f5;border-color:#6a737d;color:#333}.bad{background:#fde7e9;"
        "border-color:#cf222e;color:#82071e}td.st{font-weight:600;white-space:nowrap}"
        "#contents ul{display:flex;flex-wrap:wrap;gap:.2em 1.2em;padding-left:1em;margin:.3em 0}#contents li{list-style:none}"
        "details{margin:.5em 0}summary{cursor:pointer;color:#555}")


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _md_cell(c: str | Cell) -> str:
    if isinstance(c, Cell) and c.href:
        return f"[{_md(c.text)}]({c.href})"
    return _md(c.text if isinstance(c, Cell) else c)


def _cell(v) -> str | Cell:
    return v if isinstance(v, Cell) else number(v)
