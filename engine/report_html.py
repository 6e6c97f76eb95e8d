"""A self-contained HTML report of a run: charts as inline SVG, no scripts, no network.

Students open it anywhere (a browser, an LMS upload) and see the same
figures as the app, plus every answer next to its verdict.
"""

from __future__ import annotations

import html
from typing import Any

from engine.scoring import (
    CATEGORIES,
    CHART_FIGURES,
    FIGURES,
    flagged_figures,
    format_figure,
    format_interval,
    pct,
)

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948"]


CSS = """
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
th{text-align:left}
tr.fig th{font-weight:bold}
.key{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
pre{white-space:pre-wrap;margin:.2em 0 .6em;font-size:.9em}
li.pass b{color:#2a7a2a}
li.fail b{color:#a12}
.q{font-style:italic}
small{color:#777;font-weight:normal}
.meta{color:#555;font-size:.9em}
td.flag{color:#b3141b;font-weight:bold}
"""


def bar_chart_svg(summary: dict[str, Any], width: int = 760, height: int = 260) -> str:
    personas = summary["personas"]
    left, bottom, top = 40, 40, 30
    plot_h = height - bottom - top
    group_w = (width - left) / len(CHART_FIGURES)
    bar_w = group_w * 0.8 / max(1, len(personas))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for tick in (0, 50, 100):
        y = top + plot_h * (1 - tick / 100)
        out.append(f'<line x1="{left}" x2="{width}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>')
        out.append(f'<text x="0" y="{y + 4:.0f}" font-size="11">{tick}%</text>')
    for g, (key, label) in enumerate(CHART_FIGURES):
        gx = left + g * group_w + group_w * 0.1
        for i, pid in enumerate(personas):
            value = summary["overall"][pid].get(key)
            if value is None:
                continue
            h = max(2.0, plot_h * value)
            x, y = gx + i * bar_w, top + plot_h - h
            color = PALETTE[i % len(PALETTE)]
            box = f'x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}"'
            out.append(f'<rect {box} fill="{color}"><title>{html.escape(pid)}: {pct(value)}</title></rect>')
            out.append(f'<text x="{x + bar_w / 2 - 1:.1f}" y="{y - 3:.1f}" font-size="10" '
                       f'text-anchor="middle">{pct(value)}</text>')  # fmt: skip
            if ci := summary.get("intervals", {}).get(pid, {}).get(key):
                cx, y0, y1 = x + bar_w / 2 - 1, top + plot_h * (1 - ci[0]), top + plot_h * (1 - ci[1])
                out.append(f'<path class="err" d="M{cx - 3:.1f} {y0:.1f}H{cx + 3:.1f}M{cx:.1f} {y0:.1f}'
                           f'V{y1:.1f}M{cx - 3:.1f} {y1:.1f}H{cx + 3:.1f}" stroke="#333" fill="none">'
                           f'<title>95% interval {format_interval(key, ci)}</title></path>')  # fmt: skip
        out.append(f'<text x="{left + g * group_w + group_w / 2:.0f}" y="{height - 18}" font-size="12" '
                   f'text-anchor="middle">{html.escape(label)}</text>')  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def sweep_svg(summary: dict[str, Any], width: int = 760, height: int = 260) -> str:
    """The adapter-scale curve when a run probed one persona at several scales (``talab sweep``).

    One line per figure against the scale, each point with its 95% interval: "is there a scale that
    keeps the identity and loses little?" Empty when the run is not a sweep.
    """
    from engine.sweep import CURVE, curve_points, scales_of

    scales = scales_of(summary["personas"])
    if scales is None:
        return ""
    points = sorted(curve_points(summary, scales), key=lambda p: p["scale"])
    left, bottom, top, right = 40, 30, 20, 170
    plot_w, plot_h = width - left - right, height - bottom - top
    lo, hi = points[0]["scale"], points[-1]["scale"]

    def xy(scale: float, value: float) -> tuple[float, float]:
        return left + plot_w * (scale - lo) / ((hi - lo) or 1), top + plot_h * (1 - value)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for tick in (0, 50, 100):
        y = top + plot_h * (1 - tick / 100)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>')
        out.append(f'<text x="0" y="{y + 4:.0f}" font-size="11">{tick}%</text>')
    for p in points:
        x, _ = xy(p["scale"], 0)
        out.append(
            f'<text x="{x:.0f}" y="{height - 10}" font-size="11" text-anchor="middle">{p["scale"]:g}</text>'
        )
    for i, (key, _, label) in enumerate(CURVE):
        color = PALETTE[i % len(PALETTE)]
        known = [(p["scale"], p[key]) for p in points if p[key]["value"] is not None]
        if not known:
            continue
        path = " ".join(f"{'M' if j == 0 else 'L'}{xy(sc, f['value'])[0]:.1f} {xy(sc, f['value'])[1]:.1f}"
                        for j, (sc, f) in enumerate(known))  # fmt: skip
        out.append(f'<path class="curve" d="{path}" stroke="{color}" fill="none" stroke-width="2"/>')
        for sc, f in known:
            if f["ci"]:
                x, y0 = xy(sc, f["ci"][0])
                _, y1 = xy(sc, f["ci"][1])
                out.append(
                    f'<path class="err" d="M{x:.1f} {y0:.1f}V{y1:.1f}" stroke="{color}" opacity="0.5"/>'
                )
        y = top + 14 * i
        out.append(f'<text x="{left + plot_w + 10}" y="{y + 4}" font-size="11" fill="{color}">'
                   f"■ {html.escape(label)}</text>")  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def render_report(run: dict[str, Any], answers: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    e = html.escape
    personas = summary["personas"]
    legend = " ".join(
        f'<span class="key" style="background:{PALETTE[i % len(PALETTE)]}"></span>{e(p)}'
        for i, p in enumerate(personas)
    )
    head = "".join(f"<th>{e(p)}</th>" for p in personas)
    rows = []
    for cat in CATEGORIES:
        if not any(cat in summary["pass_rates"][p] for p in personas):
            continue
        cells = "".join(
            f"<td>{pct(summary['pass_rates'][p].get(cat))} "
            f"<small>{format_interval(cat, (summary.get('rate_intervals') or {}).get(p, {}).get(cat))}"
            "</small></td>"
            for p in personas
        )
        rows.append(f"<tr><th>{e(cat.replace('_', ' '))}</th>{cells}</tr>")
    flagged = flagged_figures(summary)  # forgetting and over-generalisation beyond Base, in red
    for key, label in FIGURES:
        cells = "".join(
            f"<td{' class=flag' if key in flagged.get(p, set()) else ''}>"
            f"{format_figure(key, summary['overall'][p].get(key))} "
            f"<small>{format_interval(key, summary.get('intervals', {}).get(p, {}).get(key))}</small></td>"
            for p in personas
        )
        rows.append(f"<tr class='fig'><th>{e(label)}</th>{cells}</tr>")
    by_probe: dict[str, list[dict[str, Any]]] = {}
    for a in answers:
        by_probe.setdefault(a["probe_id"], []).append(a)
    blocks = []
    for probe_id, group in by_probe.items():
        first = group[0]
        items = "".join(
            f"<li class='{'pass' if a.get('passed') else 'fail'}'><b>{e(a['persona_id'])}</b> "
            f"{'✓' if a.get('passed') else '✗'}<pre>{e(a.get('answer') or '')}</pre></li>"
            for a in group
        )
        title = f"<h3>{e(probe_id)} <small>{e(first.get('category') or '')}</small></h3>"
        question = f"<p class='q'>{e(first.get('question') or '')}</p>"
        blocks.append(f"<section>{title}{question}<ul>{items}</ul></section>")
    params = (run.get("params") or {}).get("sampling", {}) if isinstance(run.get("params"), dict) else {}
    meta = (
        f"Model {e(str(run.get('model_label')))} (sha256 {e(str(run.get('model_sha256'))[:16])}…) · "
        f"KB hash {e(str(run.get('kb_hash'))[:16])}… · language {e(str(run.get('lang')))} · "
        f"seed {e(str(run.get('seed')))} · temperature {e(str(params.get('temperature')))} · "
        f"max tokens {e(str(params.get('max_tokens')))} · status {e(str(run.get('status')))}"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TA Lab run {run["id"]}</title>
<style>{CSS}</style></head><body>
<h1>TA Lab · run {run["id"]}</h1>
<p class="meta">{meta}</p>
<h2>Scores</h2><p>{legend}</p>{bar_chart_svg(summary)}
{f"<h2>Adapter scale</h2>{sweep}" if (sweep := sweep_svg(summary)) else ""}
<p class="meta">Bars and [brackets]: 95% intervals (Wilson score; forgetting is paired with Base on the
same probes, Newcombe). Red: the difference from Base is larger than its interval allows by chance.</p>
<table><tr><th></th>{head}</tr>{"".join(rows)}</table>
<h2>Answers</h2>{"".join(blocks)}
</body></html>
"""
