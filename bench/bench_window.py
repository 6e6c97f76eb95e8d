"""Compare in a real window against the same Lab with no window, one process, same question.

Both ask the five personas (the fine-tuned ones with a random LoRA of the default model's
shapes: its values do not matter for speed) for ``--tokens`` tokens. Each side asks twice and
the second ask is measured, so both run with a warm prompt cache. Decode rate = answer tokens
over the seconds between each answer's first and last token, summed over the personas; for the
window, also the rate at which text reached the GUI thread, and the wall time from the click
until the last column ended.

    flock /tmp/talab-heavy.lock nice -n 5 xvfb-run -a env QT_QPA_PLATFORM=xcb \\
        .venv/bin/python bench/bench_window.py [--tokens 128]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PERSONAS = ["base", "prompted", "finetuned", "finetuned-prompted", "merged"]
QUESTION = "Write a short poem about the sea."


def headless(tokens: int) -> tuple[float, float]:
    from engine.session import Lab, LabConfig

    lab = Lab(LabConfig())
    gens: list[Any] = []
    try:
        lab.ask(QUESTION, PERSONAS, {"max_tokens": tokens})
        t0 = time.perf_counter()
        lab.ask(QUESTION, PERSONAS, {"max_tokens": tokens}, on_answer=lambda p, g: gens.append(g))
        wall = time.perf_counter() - t0
    finally:
        lab.close()
    n = sum(g.completion_tokens - 1 for g in gens)
    return n / sum((g.completion_tokens - 1) / g.tokens_per_s for g in gens), wall


def windowed(tokens: int) -> tuple[float, float, float]:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from desktop.app import MainWindow, settings

    app = QApplication.instance() or QApplication([])
    s = settings()
    s.setValue("max_tokens", tokens)
    s.setValue("personas", PERSONAS)
    s.sync()
    window = MainWindow()
    window.show()
    loop = QEventLoop()
    window.worker.loaded.connect(loop.quit)
    loop.exec()
    seen: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    done: list[dict[str, Any]] = []

    def on_token(pid: str, _text: str, n: int) -> None:
        seen.setdefault(pid, []).append(time.perf_counter())
        counts[pid] = counts.get(pid, 0) + n

    window.worker.token.connect(on_token)
    window.worker.answer_done.connect(lambda _pid, info: done.append(info))
    wall = 0.0
    for _ in range(2):
        seen.clear(), counts.clear(), done.clear()
        finished = QEventLoop()
        window.worker.ask_finished.connect(finished.quit)
        t0 = time.perf_counter()
        window.compare.question.setText(QUESTION)
        window.compare.ask_button.click()
        finished.exec()
        wall = time.perf_counter() - t0
        window.worker.ask_finished.disconnect(finished.quit)
    app.processEvents()
    window.close()
    n = sum(d["completion_tokens"] - 1 for d in done)
    engine_rate = n / sum((d["completion_tokens"] - 1) / d["tokens_per_s"] for d in done)
    gui_n = sum(counts[p] - 1 for p in seen)
    gui_rate = gui_n / sum(stamps[-1] - stamps[0] for stamps in seen.values())
    return engine_rate, gui_rate, wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=128)
    args = ap.parse_args()
    from engine.models import load_model_info
    from tests.ggufs import write_lora

    with tempfile.TemporaryDirectory() as home:
        os.environ["TALAB_HOME"] = home
        info = load_model_info("default")
        (Path(home) / "adapters").mkdir()
        write_lora(Path(home) / "adapters" / "xiaojin.gguf", {t.name: t.shape for t in info.header.tensors},
                   targets=("attn_q", "attn_k", "attn_v", "attn_output", "ffn_up", "ffn_down", "ffn_gate"),
                   rank=8)  # fmt: skip
        print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}")
        cli, cli_wall = headless(args.tokens)
        win, gui, win_wall = windowed(args.tokens)
    print(f"no window   : {cli:6.1f} tok/s decode, five personas in {cli_wall:5.2f} s")
    print(f"window      : {win:6.1f} tok/s decode, text reached the GUI at {gui:6.1f} tok/s, "
          f"five personas in {win_wall:5.2f} s from the click")  # fmt: skip
    print(f"ratio window/no window: {win / cli:.2f}x decode, {gui / cli:.2f}x on screen (target >= 0.9x)")
    print(f"load average at end: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
