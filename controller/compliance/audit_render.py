"""The quarterly audit summary as HTML (inline SVG charts) and PDF (fpdf2, drawn charts)."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF

from controller.compliance.audit_flags import FLAG_KINDS, Flag

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
CHART_TITLES = {
    "searches_per_user": "Searches per user",
    "searches_per_purpose": "Searches per purpose",
    "hits_per_week": "Hits per week",
    "denied_per_week": "Denied attempts per week",
}
BAR_RGB = {"searches_per_user": (37, 99, 235), "searches_per_purpose": (13, 148, 136),
           "hits_per_week": (217, 119, 6), "denied_per_week": (220, 38, 38)}
MAX_BARS = 20
MAX_PDF_FLAGS = 400

# fontTools logs every glyph subset at INFO; the package build is not about fonts.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def chart_title(key: str, series: Sequence[tuple[str, int]]) -> str:
    """A chart's title, saying when only the largest bars are drawn."""
    more = f" (top {MAX_BARS} of {len(series)}; all in summary.json)" \
        if len(series) > MAX_BARS else ""
    return CHART_TITLES[key] + more


def _svg_chart(key: str, series: Sequence[tuple[str, int]]) -> str:
    rows = list(series)[:MAX_BARS]
    top = max([v for _, v in rows] + [1])
    red, green, blue = BAR_RGB[key]
    height = 22 * len(rows) + 10
    bars = []
    for i, (label, value) in enumerate(rows):
        width = 360 * value / top
        y = 5 + 22 * i
        bars.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label[:40])}</text>'
            f'<rect x="230" y="{y}" width="{width:.1f}" height="16" '
            f'fill="rgb({red},{green},{blue})"/>'
            f'<text x="{236 + width:.1f}" y="{y + 13}" font-size="12">{value}</text>')
    body = "".join(bars) or '<text x="0" y="18" font-size="12">none</text>'
    return (f'<figure><figcaption>{html.escape(chart_title(key, series))}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{max(height, 30)}" '
            f'role="img" aria-label="{CHART_TITLES[key]}">{body}</svg></figure>')


def hand_lists_line(flags: Sequence[Flag]) -> str:
    """One sentence on the hotlists entered by hand (462.7.1(2)(3)), flagged one by one."""
    entries = sum(1 for f in flags if f.kind == "hand_list_entry")
    hits = sum(1 for f in flags if f.kind == "hand_list_hit")
    return (f"Hotlists entered by hand (not official feeds): {entries} entries and {hits} "
            "hits, each flagged below for review.")


def summary_html(meta: Mapping[str, Any], charts: Mapping[str, Sequence[tuple[str, int]]],
                 flags: Sequence[Flag]) -> str:
    """The summary page: figures, charts, chain verification and every review flag."""
    counts = {kind: sum(1 for f in flags if f.kind == kind) for kind in FLAG_KINDS}
    count_rows = "".join(f"<tr><td>{html.escape(title)}</td><td>{counts[kind]}</td></tr>"
                         for kind, title in FLAG_KINDS.items())
    flag_rows = "".join(
        f"<tr><td>{f.event_id}</td><td>{f.at:%Y-%m-%d %H:%M:%S}</td>"
        f"<td>{html.escape(f.actor)}</td><td>{html.escape(FLAG_KINDS[f.kind])}</td>"
        f"<td>{html.escape(f.detail)}</td></tr>" for f in flags)
    chain = meta["chain"]
    chain_text = (f"intact ({chain['rows']} entries verified)" if chain["ok"] else
                  f"BROKEN at entry {chain['first_broken_id']}: {chain['reason']}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>ALPR audit {html.escape(meta['quarter'])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}}
figure{{margin:1em 0}}figcaption{{font-weight:bold}}</style></head><body>
<h1>ALPR quarterly audit {html.escape(meta['quarter'])}</h1>
<p>Policy 462.6. Period {meta['start']} to {meta['end']} (UTC, end exclusive).
Built {meta['built_at']} by {html.escape(meta['built_by'])}.</p>
<p>Access-log entries: {meta['events']}; searches: {meta['searches']};
hits: {meta['hits']}; denied attempts: {meta['denied']}.</p>
<p id="chain">Audit-log hash chain: {html.escape(chain_text)}</p>
<p id="hand-lists">{html.escape(hand_lists_line(flags))}</p>
<h2>Charts</h2>{''.join(_svg_chart(k, v) for k, v in charts.items())}
<h2>Review flags</h2><table><tr><th>Rule</th><th>Count</th></tr>{count_rows}</table>
<table id="flags"><tr><th>Entry</th><th>Time (UTC)</th><th>User</th><th>Rule</th>
<th>Detail</th></tr>{flag_rows}</table>
{_sample_html(meta.get("sample"))}
</body></html>
"""


def _sample_html(sample: Mapping[str, Any] | None) -> str:
    """The random sample of searches: seed, method, and each sampled search (462.6)."""
    if not sample:
        return ""
    rows = "".join(
        f"<tr><td>{s['position']}</td><td>{s['event_id']}</td><td>{html.escape(str(s['at']))}"
        f"</td><td>{html.escape(s['actor'])}</td><td>{html.escape(str(s['plate'] or ''))}</td>"
        f"<td>{html.escape(str(s['purpose'] or ''))}</td>"
        f"<td>{html.escape(str(s['case_number'] or ''))}</td>"
        f"<td>{html.escape(str(s['verdict'] or 'to review'))}</td></tr>"
        for s in sample["searches"])
    return f"""<h2>Random sample of searches</h2>
<p id="sample">{len(sample['searches'])} of {sample['population']} searches (sample size
{sample['size']}), to be marked justified or not by a supervisor before the review is
recorded. Seed <code id="sample-seed">{html.escape(sample['seed'])}</code> from the
anchored chain head (entry {sample['chain_head_id']}). Method: {html.escape(sample['method'])}
</p>
<table id="sample-searches"><tr><th>#</th><th>Entry</th><th>Time (UTC)</th><th>User</th>
<th>Plate</th><th>Purpose</th><th>Case</th><th>Verdict</th></tr>{rows}</table>"""


class _Pdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self._title = title
        regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
        self.font_name = "helvetica"
        if regular.exists():
            self.add_font("dejavu", "", str(regular))
            self.add_font("dejavu", "B", str(bold if bold.exists() else regular))
            self.font_name = "dejavu"
        self.set_auto_page_break(auto=True, margin=15)

    def text_safe(self, value: str) -> str:
        """The text as the current font can draw it."""
        # The core fonts only carry Latin-1; DejaVu carries the rest.
        if self.font_name == "dejavu":
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        """Title and page number at the foot of every page."""
        self.set_y(-12)
        self.set_font(self.font_name, "", 8)
        self.cell(0, 8, self.text_safe(f"{self._title} · page {self.page_no()}"), align="C")


def _pdf_chart(pdf: _Pdf, key: str, series: Sequence[tuple[str, int]]) -> None:
    rows = list(series)[:MAX_BARS]
    top = max([v for _, v in rows] + [1])
    if pdf.get_y() + 12 + 6 * max(len(rows), 1) > pdf.h - 20:
        pdf.add_page()
    pdf.set_font(pdf.font_name, "B", 11)
    pdf.cell(0, 8, chart_title(key, series), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_name, "", 8)
    if not rows:
        pdf.cell(0, 6, "none", new_x="LMARGIN", new_y="NEXT")
    pdf.set_fill_color(*BAR_RGB[key])
    for label, value in rows:
        y = pdf.get_y()
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(60, 5, pdf.text_safe(label[:38]))
        width = 110 * value / top
        if width > 0:
            pdf.rect(pdf.l_margin + 62, y + 0.5, width, 4, style="F")
        pdf.set_xy(pdf.l_margin + 64 + width, y)
        pdf.cell(20, 5, str(value))
        pdf.set_xy(pdf.l_margin, y + 6)
    pdf.ln(3)


def summary_pdf(meta: Mapping[str, Any], charts: Mapping[str, Sequence[tuple[str, int]]],
                flags: Sequence[Flag]) -> bytes:
    """The summary as a PDF: figures, drawn bar charts, chain result, the review flags."""
    title = f"ALPR quarterly audit {meta['quarter']}"
    pdf = _Pdf(title)
    pdf.add_page()
    pdf.set_font(pdf.font_name, "B", 16)
    pdf.cell(0, 10, pdf.text_safe(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_name, "", 10)
    chain = meta["chain"]
    lines = [
        f"Policy 462.6. Period {meta['start']} to {meta['end']} (UTC, end exclusive).",
        f"Built {meta['built_at']} by {meta['built_by']}.",
        f"Access-log entries: {meta['events']}; searches: {meta['searches']}; "
        f"hits: {meta['hits']}; denied attempts: {meta['denied']}.",
        "Audit-log hash chain: " + (f"intact ({chain['rows']} entries verified)" if chain["ok"]
                                    else f"BROKEN at entry {chain['first_broken_id']}"),
        hand_lists_line(flags),
    ]
    for line in lines:
        pdf.multi_cell(0, 6, pdf.text_safe(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for key, series in charts.items():
        _pdf_chart(pdf, key, series)
    pdf.add_page()
    pdf.set_font(pdf.font_name, "B", 12)
    pdf.cell(0, 8, "Review flags", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_name, "", 9)
    for kind, name in FLAG_KINDS.items():
        pdf.cell(0, 5, pdf.text_safe(f"{name}: {sum(1 for f in flags if f.kind == kind)}"),
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(pdf.font_name, "", 7)
    for flag in flags[:MAX_PDF_FLAGS]:
        pdf.multi_cell(0, 4, pdf.text_safe(
            f"#{flag.event_id} {flag.at:%Y-%m-%d %H:%M} {flag.actor} - "
            f"{FLAG_KINDS[flag.kind]}: {flag.detail}"), new_x="LMARGIN", new_y="NEXT")
    if len(flags) > MAX_PDF_FLAGS:
        pdf.multi_cell(0, 4, f"... and {len(flags) - MAX_PDF_FLAGS} more in flags.csv",
                       new_x="LMARGIN", new_y="NEXT")
    _pdf_sample(pdf, meta.get("sample"))
    return bytes(pdf.output())


def _pdf_sample(pdf: _Pdf, sample: Mapping[str, Any] | None) -> None:
    """The random sample of searches, as in the HTML summary."""
    if not sample:
        return
    pdf.add_page()
    pdf.set_font(pdf.font_name, "B", 12)
    pdf.cell(0, 8, "Random sample of searches", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_name, "", 8)
    pdf.multi_cell(0, 4, pdf.text_safe(
        f"{len(sample['searches'])} of {sample['population']} searches (size "
        f"{sample['size']}). Seed {sample['seed']} from the anchored chain head (entry "
        f"{sample['chain_head_id']}). Method: {sample['method']}"),
        new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for item in sample["searches"]:
        pdf.multi_cell(0, 4, pdf.text_safe(
            f"{item['position']}. #{item['event_id']} {item['at']} {item['actor']} "
            f"{item['plate'] or ''} - {item['purpose'] or ''} ({item['case_number'] or ''}): "
            f"{item['verdict'] or 'to review'}"), new_x="LMARGIN", new_y="NEXT")
