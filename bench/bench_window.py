"""Compare in a real window against the same Lab with no window, one process, same question.

Both ask the five personas (the fine-tuned ones with a random LoRA of the default model's
shapes: its values do not matter for speed) for ``--tokens`` tokens. Each side asks twice and
the second ask is measured, so both run with a warm prompt cache. Decode rate = answer tokens
over the seconds between each answer's first and last token, summed over the personas; for the
window, also the rate at which text reached the GUI thread, and the wall time from the click
until the last column ended.

    xvfb-run -a env QT_QPA_PLATFORM=xcb \\
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


def headless(tokens: int, threads: int) -> tuple[float, float]:
    from engine.lab import Lab, LabConfig

    lab = Lab(LabConfig())
    lab.runtime.set_threads(threads)
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


def wait_until(ready: Any, timeout_s: float = 600.0) -> None:
    """Run the event loop until ``ready()`` (checked every 20 ms): the wait itself uses no CPU."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, timer, end = QEventLoop(), QTimer(), time.monotonic() + timeout_s
    timer.timeout.connect(lambda: loop.quit() if ready() or time.monotonic() > end else None)
    timer.start(20)
    loop.exec()
    timer.stop()


def windowed(tokens: int, threads: int) -> tuple[float, float, float]:
    from PySide6.QtWidgets import QApplication

    from desktop.app import MainWindow, settings

    app = QApplication.instance() or QApplication([])
    s = settings()
    s.setValue("max_tokens", tokens)
    s.setValue("personas", PERSONAS)
    s.setValue("n_threads", threads)
    s.sync()
    window = MainWindow()
    window.show()
    wait_until(lambda: bool(window.names) and window.compare.ask_button.isEnabled())
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
        t0 = time.perf_counter()
        window.compare.question.setText(QUESTION)
        window.compare.ask_button.click()
        wait_until(lambda: len(done) == len(PERSONAS) and window.compare.ask_button.isEnabled())
        wall = time.perf_counter() - t0
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
    ap.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: physical cores)")
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
        cli, cli_wall = headless(args.tokens, args.threads)
        win, gui, win_wall = windowed(args.tokens, args.threads)
    print(f"no window   : {cli:6.1f} tok/s decode, five personas in {cli_wall:5.2f} s")
    print(f"window      : {win:6.1f} tok/s decode, text reached the GUI at {gui:6.1f} tok/s, "
          f"five personas in {win_wall:5.2f} s from the click")  # fmt: skip
    print(f"ratio window/no window: {win / cli:.2f}x decode, {gui / cli:.2f}x on screen (target >= 0.9x)")
    print(f"load average at end: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
