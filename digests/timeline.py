"""A story's coverage timeline as inline SVG: when each outlet picked the story up.

Why SVG text rather than a PNG or a chart library: the archive is static HTML that must
work without JavaScript, and an inline SVG scales to a phone, inherits the page's text
colour (`currentColor`, so dark mode comes free), links each mark to its article and
can be checked by parsing it. The function is pure: members in, a string out.

Rows are outlets (in the order they first covered the story), the x axis is time. A
member that is the original of its copy group (an outlet's own article) is a filled
circle, the story's credited original a larger one; copies are hollow shapes, one
shape per relation, with a faint line back to the article they copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from html import escape
from unicodedata import east_asian_width
from urllib.parse import urlsplit

from digests.select import MemberView

ROW = 28  # px per outlet row
LABEL = 140  # px for outlet names, left-aligned so a wider font overlaps the plot rather than the edge
TOP = 14
AXIS = 46  # px under the rows: axis line, two-line tick labels
LEGEND_LINE = 18  # px per legend line
LABEL_UNITS = 17  # label width in Latin characters (about 7 px each at 13 px); a CJK character counts 2
ORIGINAL_COLOR = "#2563eb"
COPY_COLOR = "#ea580c"
# Shapes for copies, by relation; anything unknown is drawn like a mirror.
COPY_SHAPES = {"mirror": "square", "spun": "diamond", "excerpt": "triangle", "translation": "ring", "update": "cross"}
LEGEND_LABELS = {"original": "own article", "mirror": "mirror", "spun": "spun copy", "excerpt": "excerpt",
                 "translation": "translation", "update": "update"}
_STEPS = [timedelta(minutes=m) for m in (15, 30, 60, 120, 180, 360, 720)] + [
    timedelta(days=d) for d in (1, 2, 7, 14, 30)]


@dataclass(frozen=True)
class _Scale:
    start: datetime
    end: datetime
    x0: float
    x1: float

    def x(self, t: datetime) -> float:
        total = (self.end - self.start).total_seconds()
        return self.x0 + (self.x1 - self.x0) * (t - self.start).total_seconds() / total


def timeline_svg(
    members: Sequence[MemberView],
    tz: tzinfo = UTC,
    *,
    width: int = 480,
    lead: str = "",
    element_id: str = "timeline",
) -> str:
    """The coverage timeline of one story's members as an `<svg>` element (escaped, accessible).

    `lead` is the article id credited as the story's original (drawn larger); `element_id`
    prefixes the ids the <title>/<desc> use, so two timelines can share a page.
    """
    if not members:
        return ""
    ordered = sorted(members, key=lambda m: (m.time, m.article_id))
    rows: dict[str, int] = {}
    names: dict[str, str] = {}
    for m in ordered:
        if m.outlet_key not in rows:
            rows[m.outlet_key] = len(rows)
            names[m.outlet_key] = m.outlet
    zone = ordered[-1].time.astimezone(tz).tzname() or ""
    legend, lines = _legend(ordered, TOP + ROW * len(rows) + AXIS + 8, width, f"times in {zone}" if zone else "")
    height = TOP + ROW * len(rows) + AXIS + LEGEND_LINE * lines
    scale = _scale(ordered[0].time, ordered[-1].time, LABEL + 12, width - 18)
    by_id = {m.article_id: m for m in ordered}
    originals = {m.copy_group: m for m in ordered if m.is_original}

    def y(m: MemberView) -> float:
        return TOP + ROW * rows[m.outlet_key] + ROW / 2

    title = (f"Coverage timeline: {len(ordered)} {_plural(len(ordered), 'article')} from {len(rows)} "
             f"{_plural(len(rows), 'outlet')}, {_when(ordered[0].time, tz)} to {_when(ordered[-1].time, tz)}")
    desc = "; ".join(f"{m.outlet}, {_relation_text(m)}, {_when(m.time, tz)}" for m in ordered)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" style="max-width: 100%; height: auto" '
        f'font-family="system-ui, -apple-system, sans-serif" font-size="13" '
        f'aria-labelledby="{element_id}-title {element_id}-desc">',
        f'<title id="{element_id}-title">{escape(title)}</title>',
        f'<desc id="{element_id}-desc">{escape(desc)}</desc>',
    ]
    for key, row in rows.items():  # outlet rows: name on the left, a faint guide line
        cy = TOP + ROW * row + ROW / 2
        out.append(f'<g class="row"><title>{escape(names[key])}</title>'
                   f'<text x="6" y="{cy + 4:.1f}" fill="currentColor">'
                   f'{escape(_short(names[key]))}</text>'
                   f'<line x1="{scale.x0 - 6}" x2="{scale.x1 + 6}" y1="{cy:.1f}" y2="{cy:.1f}" '
                   f'stroke="currentColor" stroke-opacity="0.12"/></g>')
    out.extend(_axis(scale, TOP + ROW * len(rows), tz))
    for m in ordered:  # copy -> original links under the marks
        source = originals.get(m.copy_group)
        if not m.is_original and source is not None and source.article_id in by_id:
            out.append(f'<line class="copy-link" x1="{scale.x(source.time):.1f}" y1="{y(source):.1f}" '
                       f'x2="{scale.x(m.time):.1f}" y2="{y(m):.1f}" stroke="{COPY_COLOR}" stroke-opacity="0.45" '
                       f'stroke-dasharray="3 3"/>')
    for m in ordered:
        out.append(_mark(m, scale.x(m.time), y(m), m.article_id == lead, tz))
    out.append(legend)
    out.append("</svg>")
    return "".join(out)


def _scale(first: datetime, last: datetime, x0: float, x1: float) -> _Scale:
    span = last - first
    pad = max(span * 0.04, timedelta(minutes=10)) if span else timedelta(minutes=30)
    return _Scale(first - pad, last + pad, x0, x1)


def _axis(scale: _Scale, y0: float, tz: tzinfo) -> list[str]:
    """The time axis with round ticks; each label is time over date, the date only when it changes."""
    parts = [f'<g class="axis"><line x1="{scale.x0}" x2="{scale.x1}" y1="{y0 + 4}" y2="{y0 + 4}" '
             f'stroke="currentColor" stroke-opacity="0.5"/>']
    previous_day = None
    step, ticks = _ticks(scale.start, scale.end, tz)
    for tick in ticks:
        x = scale.x(tick)
        local = tick.astimezone(tz)
        date_label = f"{local.day} {local:%b}" if local.date() != previous_day else ""
        previous_day = local.date()
        lines = [date_label] if step >= timedelta(days=1) else [f"{local:%H:%M}", date_label]
        spans = "".join(f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 14}">{text}</tspan>'
                        for i, text in enumerate(line for line in lines if line))
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0 + 4}" y2="{y0 + 9}" stroke="currentColor" '
                     f'stroke-opacity="0.5"/><text x="{x:.1f}" y="{y0 + 22}" text-anchor="middle" '
                     f'fill="currentColor" fill-opacity="0.75">{spans}</text>')
    parts.append("</g>")
    return parts


def _ticks(start: datetime, end: datetime, tz: tzinfo, most: int = 6) -> tuple[timedelta, list[datetime]]:
    """(step, round local times inside [start, end]): the smallest step giving at most `most` ticks."""
    span = end - start
    step = next((s for s in _STEPS if span / s <= most), _STEPS[-1] * max(1, int(span / (_STEPS[-1] * most)) + 1))
    local = start.astimezone(tz)
    if step >= timedelta(days=1):
        tick = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        minutes = int(step.total_seconds() // 60)
        floor = (local.hour * 60 + local.minute) // minutes * minutes
        tick = local.replace(hour=floor // 60, minute=floor % 60, second=0, microsecond=0)
    ticks = []
    while tick <= end:
        if tick >= start:
            ticks.append(tick)
        tick = (tick.astimezone(UTC) + step).astimezone(tz) if step < timedelta(days=1) else tick + step
    return step, ticks


def _mark(m: MemberView, x: float, y: float, is_lead: bool, tz: tzinfo) -> str:
    """One mark: a <g> with a tooltip <title>, linked to the article when the link is a web link."""
    relation = "original" if m.is_original else (m.relation or "mirror")
    kind = "original" if m.is_original else "copy"
    label = f"{m.outlet}: {m.title or m.link} ({_relation_text(m)}, {_when(m.time, tz)})"
    shape = _circle(x, y, 7 if is_lead else 5, filled=True) if m.is_original else _copy_shape(
        COPY_SHAPES.get(relation, "square"), x, y)
    classes = f"mark {kind} {relation}" + (" lead" if is_lead else "")
    body = f"<title>{escape(label)}</title>{shape}"
    parts = urlsplit(m.link or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        body = f'<a href="{escape(m.link)}">{body}</a>'
    return (f'<g class="{classes}" data-article="{escape(m.article_id)}" data-relation="{escape(relation)}">'
            f"{body}</g>")


def _circle(x: float, y: float, r: float, filled: bool) -> str:
    fill = ORIGINAL_COLOR if filled else "none"
    stroke = ORIGINAL_COLOR if filled else COPY_COLOR
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" stroke="{stroke}" stroke-width="2"/>'


def _copy_shape(shape: str, x: float, y: float, r: float = 5.5) -> str:
    style = f'fill="none" stroke="{COPY_COLOR}" stroke-width="2"'
    if shape == "ring":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" {style}/>'
    if shape == "diamond":
        points = [(x, y - r - 1), (x + r + 1, y), (x, y + r + 1), (x - r - 1, y)]
    elif shape == "triangle":
        points = [(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)]
    elif shape == "cross":
        return (f'<path d="M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}M{x - r:.1f} {y + r:.1f}'
                f'L{x + r:.1f} {y - r:.1f}" {style}/>')
    else:
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" {style}/>'
    return '<polygon points="' + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + f'" {style}/>'


def _legend(members: Sequence[MemberView], y: float, width: int, note: str) -> tuple[str, int]:
    """(markup, lines): only the kinds of mark this story has, flowed onto as many lines as needed."""
    present = ["original"] if any(m.is_original for m in members) else []
    present += sorted({m.relation or "mirror" for m in members if not m.is_original},
                      key=lambda r: list(LEGEND_LABELS).index(r) if r in LEGEND_LABELS else 99)
    parts, x, lines = ['<g class="legend">'], 12.0, 1
    for relation in [*present, ""]:
        label = LEGEND_LABELS.get(relation, relation) if relation else note
        if not label:
            continue
        item = 22 + 6.2 * len(label)
        if x + item > width and x > 12:
            x, y, lines = 12.0, y + LEGEND_LINE, lines + 1
        if relation:
            shape = (_circle(x, y, 5, filled=True) if relation == "original"
                     else _copy_shape(COPY_SHAPES.get(relation, "square"), x, y, 4.5))
            parts.append(f'{shape}<text x="{x + 10:.1f}" y="{y + 4:.1f}" fill="currentColor" font-size="11">'
                         f"{escape(label)}</text>")
        else:
            parts.append(f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="11" fill="currentColor" '
                         f'fill-opacity="0.6">{escape(label)}</text>')
        x += item
    parts.append("</g>")
    return "".join(parts), lines


def _relation_text(m: MemberView) -> str:
    return "own article" if m.is_original else LEGEND_LABELS.get(m.relation, m.relation)


def _when(t: datetime, tz: tzinfo) -> str:
    local = t.astimezone(tz)
    return f"{local.day} {local:%b %H:%M} {local.tzname() or ''}".strip()


def _short(name: str, budget: int = LABEL_UNITS) -> str:
    """Cut a label to the space left of the plot; wide (CJK) characters count double."""
    used, out = 0, []
    for ch in name:
        used += 2 if east_asian_width(ch) in "WF" else 1
        if used > budget:
            return "".join(out).rstrip() + "…"
        out.append(ch)
    return name


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"
