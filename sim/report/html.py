"""One self-contained ``report.html``: inline CSS, figures as base64 PNG, no scripts."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from sim.report.figures.style import png_bytes
from sim.report.headline import fmt
from sim.report.sections import Panel, Section
from sim.report.tables import Threshold

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
 margin:0;background:#f6f7f9}
main{max-width:1120px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:8px 0 4px} h2{font-size:19px;margin:0 0 8px}
nav{position:sticky;top:0;background:#263238;padding:6px 24px;z-index:1;
 display:flex;flex-wrap:wrap;gap:2px 0}
nav a{color:#eceff1;margin-right:14px;font-size:13px;text-decoration:none;white-space:nowrap}
section{background:#fff;border-radius:6px;padding:16px 20px;margin:16px 0;
 box-shadow:0 1px 2px rgba(0,0,0,.08)}
figure{margin:12px 0 20px} img{max-width:100%;height:auto;display:block}
figcaption{color:#455a64;font-size:14px;margin-top:4px}
figcaption b{color:#263238}
table{border-collapse:collapse;font-size:14px;margin:6px 0}
td,th{padding:3px 14px 3px 0;text-align:left;vertical-align:top}
td{white-space:nowrap;font-variant-numeric:tabular-nums}
h3{font-size:15px;margin:8px 0 2px;color:#37474f}
th{color:#546e7a;font-weight:600;white-space:nowrap}
.kvs{columns:3 300px;column-gap:32px;font-size:14px;margin-top:8px}
.kv{display:flex;justify-content:space-between;gap:12px;break-inside:avoid;padding:2px 0;
 border-bottom:1px solid #eceff1}
.kv span{color:#546e7a;overflow-wrap:anywhere} .kv b{font-weight:500;white-space:nowrap}
.grid{display:grid;align-items:start;gap:0 24px;
 grid-template-columns:repeat(auto-fill,minmax(320px,1fr))}
.fail{color:#c62828;font-weight:700} .ok{color:#2e7d32}
.banner{background:#ffebee;border-left:4px solid #c62828;padding:8px 12px;margin:8px 0}
.pass{background:#e8f5e9;border-left:4px solid #2e7d32;padding:8px 12px;margin:8px 0}
.skipped{color:#78909c;font-size:14px}
"""


def write_html(
    path: Path,
    title: str,
    headline: dict[str, list[tuple[str, str]]],
    thresholds: list[Threshold],
    sections: list[Section],
) -> Path:
    path.write_text(render(title, headline, thresholds, sections), encoding="utf-8")
    return path


def render(
    title: str,
    headline: dict[str, list[tuple[str, str]]],
    thresholds: list[Threshold],
    sections: list[Section],
) -> str:
    shown = [s for s in sections if s.panels or s.rows]
    links = "".join(f'<a href="#{s.key}">{escape(s.title)}</a>' for s in shown)
    body = "".join(_section(s) for s in shown)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<nav><a href="#headline"><b>hopsim</b></a>{links}</nav><main>'
        f"<h1>{escape(title)}</h1>"
        f"{_headline(headline, thresholds)}{body}{_skipped(sections)}"
        "</main></body></html>\n"
    )


def _headline(groups: dict[str, list[tuple[str, str]]], thresholds: list[Threshold]) -> str:
    tables = "".join(
        f"<div><h3>{escape(name)}</h3>{_table(rows)}</div>" for name, rows in groups.items()
    )
    return (
        '<section id="headline"><h2>Headline</h2>'
        f"{_thresholds_banner(thresholds)}"
        f'<div class="grid">{tables}</div>'
        f"{_thresholds_table(thresholds)}</section>"
    )


def _thresholds_banner(thresholds: list[Threshold]) -> str:
    failed = [x for x in thresholds if not x.ok]
    if failed:
        names = ", ".join(escape(x.name) for x in failed)
        return f'<div class="banner"><b>{len(failed)} threshold(s) failed:</b> {names}</div>'
    if thresholds:
        return f'<div class="pass">All {len(thresholds)} thresholds passed.</div>'
    return ""


def _thresholds_table(thresholds: list[Threshold]) -> str:
    if not thresholds:
        return ""
    head = "<tr><th>threshold</th><th>value</th><th>target</th><th>result</th><th>from</th></tr>"
    rows = "".join(
        f"<tr><td>{escape(x.name)}</td><td>{escape(fmt(x.value))}</td>"
        f"<td>{escape(fmt(x.target))}</td>"
        f'<td class="{"ok" if x.ok else "fail"}">{"ok" if x.ok else "FAILED"}</td>'
        f"<td>{escape(x.source)}</td></tr>"
        for x in thresholds
    )
    return f"<table>{head}{rows}</table>"


def _table(rows: list[tuple[str, str]]) -> str:
    if not rows:
        return ""
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _section(section: Section) -> str:
    figures = "".join(_figure(panel) for panel in section.panels)
    return (
        f'<section id="{section.key}"><h2>{escape(section.title)}</h2>'
        f"{figures}{_key_values(section.rows)}</section>"
    )


def _key_values(rows: list[tuple[str, str]]) -> str:
    """Long key/value lists flowing in columns, key left, value right."""
    if not rows:
        return ""
    items = "".join(
        f'<div class="kv"><span>{escape(k)}</span><b>{escape(v)}</b></div>' for k, v in rows
    )
    return f'<div class="kvs">{items}</div>'


def _figure(panel: Panel) -> str:
    data = base64.b64encode(png_bytes(panel.figure)).decode("ascii")
    width, height = (int(v) for v in panel.figure.bbox.size)
    alt = _alt(panel)
    return (
        f'<figure><img src="data:image/png;base64,{data}" width="{width}" height="{height}" '
        f'alt="{escape(alt)}"><figcaption><b>How to read:</b> {escape(panel.guide)}'
        "</figcaption></figure>"
    )


def _alt(panel: Panel) -> str:
    titles = [axes.get_title(loc="left") or axes.get_title() for axes in panel.figure.axes]
    suptitle = panel.figure.get_suptitle()
    return suptitle or next((t for t in titles if t), "figure")


def _skipped(sections: list[Section]) -> str:
    items = "".join(
        f"<li>{escape(s.title)}: {escape(s.skipped)}</li>" for s in sections if s.skipped
    )
    if not items:
        return ""
    return f'<section class="skipped"><h2>Not in this run</h2><ul>{items}</ul></section>'
