"""Export a run so students can analyse it anywhere: CSV (spreadsheets), JSONL (code), HTML (reading)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from engine.errors import TalabError
from engine.store import Store

FORMATS = ("csv", "jsonl", "html")
CSV_COLUMNS = [
    "run_id", "persona_id", "probe_id", "category", "question", "answer", "passed",
    "finish_reason", "prompt_tokens", "completion_tokens", "ttft_s", "prefill_tokens",
    "cached_tokens", "batched", "tokens_per_s",
    "model_sha256", "adapters", "kb_hash", "params", "seed", "scores", "system_prompt",
    "created_at",
]  # fmt: skip


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def export_run(store: Store, run_id: int, fmt: str, output: Path | None = None) -> Path:
    if fmt not in FORMATS:
        raise TalabError(f"Unknown export format '{fmt}' (choose from {', '.join(FORMATS)})")
    run = store.get_run(run_id)
    answers = store.answers(run_id)
    out = Path(output) if output else Path.cwd() / f"talab-run-{run_id}.{fmt}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as fh:
            if fmt == "html":
                from engine.report_html import render_report
                from engine.runs import run_summary

                fh.write(render_report(run, answers, run_summary(run, answers)))
            elif fmt == "csv":
                writer = csv.DictWriter(fh, CSV_COLUMNS, extrasaction="ignore")
                writer.writeheader()
                for a in answers:
                    writer.writerow({k: _cell(a.get(k)) for k in CSV_COLUMNS})
            else:
                fh.write(json.dumps({"type": "run", **run}, ensure_ascii=False) + "\n")
                for a in answers:
                    fh.write(json.dumps({"type": "answer", **a}, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise TalabError(f"Cannot write {out}: {exc.strerror or exc}") from None
    return out
