"""A tiny document model rendered to Markdown and to self-contained HTML."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field

from ..analysis.figures import honest


@dataclass
class Doc:
    blocks: list[tuple] = field(default_factory=list)

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", level, text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, headers: list[str], rows: list[list]) -> None:
        self.blocks.append(("table", headers, [[_cell(c) for c in r] for r in rows]))

    def img(self, png: bytes, alt: str) -> None:
        self.blocks.append(("img", png, alt))

    def markdown(self) -> str:
        out = []
        for b in self.blocks:
            if b[0] == "h":
                out.append("#" * b[1] + " " + b[2])
            elif b[0] == "p":
                out.append(b[1])
            elif b[0] == "table":
                out.append("| " + " | ".join(map(_md, b[1])) + " |\n|" + "---|" * len(b[1]))
                out[-1] += "".join("\n| " + " | ".join(map(_md, r)) + " |" for r in b[2])
            elif b[0] == "img":
                out.append(f"*Plot in report.html: {b[2]}*")
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        body = []
        for b in self.blocks:
            if b[0] == "h":
                body.append(f"<h{b[1]}>{html.escape(b[2])}</h{b[1]}>")
            elif b[0] == "p":
                body.append(f"<p>{html.escape(b[1])}</p>")
            elif b[0] == "table":
                head = "".join(f"<th>{html.escape(h)}</th>" for h in b[1])
                rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in b[2])
                body.append(f"<table><tr>{head}</tr>{rows}</table>")
            elif b[0] == "img":
                data = base64.b64encode(b[1]).decode()
                body.append(f'<img alt="{html.escape(b[2])}" src="data:image/png;base64,{data}">')
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}th{background:#f3f3f3}img{display:block;margin:1em 0}")


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _cell(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v.is_integer() and abs(v) < 1e12:
            return str(int(v))
        return honest(v) if abs(v) < 1e5 else (f"{v:.0f}" if abs(v) < 1e15 else f"{v:.3e}")
    return str(v)
