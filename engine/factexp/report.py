"""The one-fact experiment's table, in words for the terminal and as a self-contained HTML page.

Shared by ``talab fact-experiment`` and the HTML export so both show the same
columns, the ROME paper's reference beside our figures, and the same notes.
"""

from __future__ import annotations

import html

from engine.factexp.experiment import FactResult

#: (key, header): rates are shares 0-1 shown as %, fluency is bits
COLUMNS = (
    ("efficacy", "efficacy"),
    ("generalisation", "generalisation"),
    ("specificity", "specificity"),
    ("general_ability", "general ability"),
    ("fluency", "fluency"),
)
RATES = ("efficacy", "generalisation", "specificity", "general_ability")


def cell(key: str, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if key == "fluency" else f"{value * 100:.0f}%"


def counts(result: FactResult) -> dict[str, int]:
    """How many prompts each rate is over: one prompt moves a rate by 1/n."""
    row = result.rows[0] if result.rows else None
    kinds = {"efficacy": "efficacy", "generalisation": "paraphrase", "specificity": "neighbour"}
    out = {k: sum(c.kind == kind for c in row.cases) if row else 0 for k, kind in kinds.items()}
    out["general_ability"] = row.general_n if row else 0
    return out


def notes(result: FactResult) -> list[str]:
    n = counts(result)
    secs = result.seconds
    lines = [
        f"Fact: '{result.request['prompt']}' → '{result.request['target']}' on {result.request['model']}.",
        f"efficacy: new answer's summed log-prob beats the old on the prompt ({n['efficacy']} prompt); "
        f"generalisation: the same on {n['generalisation']} paraphrases; specificity: the old answer still "
        f"wins on {n['specificity']} neighbouring prompts; general ability: {n['general_ability']} English "
        f"general-skill probes (max {result.request['max_tokens']} tokens); fluency: bi/trigram entropy "
        "(bits) of greedy generations on the prompt and its paraphrases.",
        "Old answers: the base model's own greedy answer, as many tokens as the new one, unless given.",
        f"Scored on {result.framing}.",
        f"Reference, {result.reference_source}: "
        + "; ".join(
            f"{m}: efficacy {r['efficacy']:g}, paraphrase {r['generalisation']:g}, "
            f"specificity {r['specificity']:g}"
            for m, r in result.reference.items()
        ),
    ]
    for cov, e in result.edits.items():
        lines.append(
            f"ROME edit ({cov} covariance): layer {e.get('layer')} ({e.get('layer_source')}), "
            f"target probability {e.get('target_prob')} after the optimisation."
        )
    if secs:
        lines.append(
            "Wall time: "
            + ", ".join(f"{k.removesuffix('_s')} {v} s" for k, v in secs.items())
            + f"; load average {result.load_average.get('start')} → {result.load_average.get('end')}."
        )
    if result.probe_run is not None:
        lines.append(
            f"General-skill answers: probe run {result.probe_run} (talab export {result.probe_run})."
        )
    return lines


PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1")


def chart_svg(result: FactResult, width: int = 760, height: int = 260) -> str:
    """Grouped bars: one group per rate, one bar per persona, the paper's ROME figure as a tick."""
    left, bottom, top = 40, 40, 20
    plot_h = height - bottom - top
    group_w = (width - left) / len(RATES)
    bar_w = group_w * 0.8 / max(1, len(result.rows))
    rome = result.reference.get("ROME", {})
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for tick in (0, 50, 100):
        y = top + plot_h * (1 - tick / 100)
        out.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>'
            f'<text x="0" y="{y + 4:.0f}" font-size="11">{tick}%</text>'
        )
    for g, key in enumerate(RATES):
        gx = left + g * group_w + group_w * 0.1
        for i, row in enumerate(result.rows):
            value = getattr(row, key)
            if value is None:
                continue
            h = max(2.0, plot_h * value)
            x, y = gx + i * bar_w, top + plot_h - h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[i % len(PALETTE)]}"><title>{html.escape(row.label)}: '
                f"{cell(key, value)}</title></rect>"
            )
        if key in rome:
            y = top + plot_h * (1 - rome[key] / 100)
            out.append(
                f'<line x1="{gx:.1f}" x2="{gx + group_w * 0.8:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#333" stroke-dasharray="4 3"><title>ROME, GPT-2 XL: {rome[key]:g}%</title></line>'
            )
        label = dict(COLUMNS)[key]
        out.append(
            f'<text x="{left + g * group_w + group_w / 2:.0f}" y="{height - 18}" font-size="12" '
            f'text-anchor="middle">{html.escape(label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def to_html(result: FactResult) -> str:
    from engine.report_html import CSS

    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for _, h in COLUMNS)
    rows = []
    for i, r in enumerate(result.rows):
        key = f'<span class="key" style="background:{PALETTE[i % len(PALETTE)]}"></span>'
        cells = "".join(f"<td>{cell(k, getattr(r, k))}</td>" for k, _ in COLUMNS)
        rows.append(
            f"<tr><th>{key}{esc(r.label)} <small>{esc(r.persona)}</small></th>{cells}"
            f"<td style='text-align:left'>{esc(r.completion[:120])}</td></tr>"
        )
    for method, ref in result.reference.items():
        cells = "".join(f"<td>{ref[k]:g}%</td>" if k in ref else "<td>–</td>" for k, _ in COLUMNS)
        rows.append(
            f"<tr class='meta'><th>{esc(method)} <small>paper, GPT-2 XL</small></th>{cells}<td></td></tr>"
        )
    cases = []
    for r in result.rows:
        for c in r.cases:
            verdict = c.old_wins if c.kind == "neighbour" else c.new_wins
            cases.append(
                f"<tr><th>{esc(r.label)}</th><td style='text-align:left'>{esc(c.kind)}</td>"
                f"<td style='text-align:left'>{esc(c.case)}</td><td>{c.new_logprob:.2f}</td>"
                f"<td style='text-align:left'>{esc(c.old)}</td><td>{c.old_logprob:.2f}</td>"
                f"<td>{'✓' if verdict else '✗'}</td></tr>"
            )
    note = "".join(f"<li>{esc(line)}</li>" for line in notes(result))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>One-fact experiment</title>"
        f"<style>{CSS}</style></head><body><h1>One-fact experiment</h1>"
        f"<p class='meta'>{esc(result.created)}</p>{chart_svg(result)}"
        f"<p class='meta'>Dashed lines: ROME on GPT-2 XL (CounterFact).</p>"
        f"<table><tr><th>persona</th>{head}<th>greedy completion of the prompt</th></tr>"
        f"{''.join(rows)}</table>"
        f"<ul>{note}</ul><h2>Every prompt</h2><table><tr><th>persona</th><th>kind</th><th>prompt</th>"
        f"<th>log p(new)</th><th>old answer</th><th>log p(old)</th><th>pass</th></tr>{''.join(cases)}"
        "</table></body></html>"
    )
