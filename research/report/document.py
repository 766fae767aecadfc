"""A report as data (sections of text, tables and figures), rendered to one self-contained HTML
file (figures embedded as base64 PNG, no external resources: it opens offline) and to Markdown
with its figures written beside it."""

from __future__ import annotations

import base64
import html
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from research.report.figures import DPI, plt


@dataclass
class Figure:
    name: str  # file stem, unique in the report
    caption: str  # says what it shows and which runs it came from
    png: bytes


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    #: shown first and marked "Warning" (and printed on the terminal by the report command)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.sections for w in s.warnings]

    def map_text(self, change) -> None:
        """Apply ``change`` to every text of the document (e.g. paths made relative)."""
        self.subtitle = change(self.subtitle)
        for s in self.sections:
            s.paragraphs = [change(p) for p in s.paragraphs]
            s.warnings = [change(w) for w in s.warnings]
            for t in s.tables:
                t.rows = [[change(c) for c in row] for row in t.rows]
                t.caption = change(t.caption)
            for f in s.figures:
                f.caption = change(f.caption)


def figure_png(fig, dpi: int = DPI) -> bytes:
    """The PNG bytes of a matplotlib figure, which is then closed."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } .subtitle { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; } figure { margin: 1.2em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption, .caption { color: #555; font-size: 0.85em; }
.warning { background: #fff4e5; border-left: 4px solid #e8a33d; padding: 0.4em 0.8em; }
code { background: #f6f6f6; padding: 0 0.2em; }
"""


def _inline(text: str) -> str:
    """Escape, then turn `code` spans into <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def render_html(doc: Document) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(doc.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(doc.title)}</h1>",
        f'<p class="subtitle">{_inline(doc.subtitle)}</p>',
    ]
    for section in doc.sections:
        parts.append(f'<h2 id="{_slug(section.title)}">{html.escape(section.title)}</h2>')
        parts.extend(
            f'<p class="warning"><strong>Warning:</strong> {_inline(w)}</p>'
            for w in section.warnings
        )
        parts.extend(f"<p>{_inline(p)}</p>" for p in section.paragraphs)
        for table in section.tables:
            parts.append("<table><thead><tr>")
            parts.extend(f"<th>{html.escape(h)}</th>" for h in table.header)
            parts.append("</tr></thead><tbody>")
            for row in table.rows:
                cells = "".join(f"<td>{_inline(c)}</td>" for c in row)
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</tbody></table>")
            if table.caption:
                parts.append(f'<p class="caption">{_inline(table.caption)}</p>')
        for fig in section.figures:
            data = base64.b64encode(fig.png).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(fig.name)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{_inline(fig.caption)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: Document, figure_dir: str) -> str:
    """Markdown with figures referenced as ``figure_dir/<name>.png`` (see :func:`write`)."""
    lines = [f"# {doc.title}", "", f"_{doc.subtitle}_", ""]
    for section in doc.sections:
        lines += [f"## {section.title}", ""]
        for w in section.warnings:
            lines += [f"> **Warning:** {w}", ""]
        for p in section.paragraphs:
            lines += [p, ""]
        for table in section.tables:
            lines.append("| " + " | ".join(_md_cell(h) for h in table.header) + " |")
            lines.append("|" + "---|" * len(table.header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
            lines.append("")
            if table.caption:
                lines += [f"_{table.caption}_", ""]
        for fig in section.figures:
            lines += [f"![{fig.name}]({figure_dir}/{fig.name}.png)", "", f"_{fig.caption}_", ""]
    return "\n".join(lines)


def write(doc: Document, out_dir: Path, stem: str = "report") -> tuple[Path, Path]:
    """Write ``<stem>.html`` and ``<stem>.md`` + ``<stem>_figures/*.png`` into ``out_dir``,
    each file atomically (a reader never sees half a report)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fig_dir = out_dir / f"{stem}_figures"
    fig_dir.mkdir(exist_ok=True)
    figures = [f for s in doc.sections for f in s.figures]
    names = [f.name for f in figures]
    if len(set(names)) != len(names):  # one file would overwrite another's figure
        raise ValueError(f"figure names repeat in the report: {sorted(names)}")
    for fig in figures:
        _atomic_write(fig_dir / f"{fig.name}.png", fig.png)
    for old in fig_dir.glob("*.png"):  # an earlier report's figures: not this report's
        if old.stem not in names:
            old.unlink()
    html_path, md_path = out_dir / f"{stem}.html", out_dir / f"{stem}.md"
    _atomic_write(html_path, render_html(doc).encode())
    _atomic_write(md_path, render_markdown(doc, fig_dir.name).encode())
    return html_path, md_path


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
