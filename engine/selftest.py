"""``talab-app --self-test``: prove an installation works, headless, without touching user data.

A teacher (or the packaging smoke test) runs it on a classroom machine before
class: it loads the bundled model, asks one probe question per persona that
can run, stores the answers in a throw-away database and checks they are
there. Any fine-tuned adapter the user already has is copied in, so its
personas are tested too. Exit 0 means the app will work offline; otherwise
one line says what is wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

EXIT_FAILED = 2


def process_age_s() -> float:
    """Seconds since this process started (Linux), so "start to first token" includes Python's start."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, float(Path("/proc/uptime").read_text().split()[0]) - started)
    except (OSError, ValueError, IndexError):
        return 0.0


def run(max_tokens: int = 16, out: TextIO | None = None) -> dict[str, object]:
    from engine import paths

    t0 = time.perf_counter() - process_age_s()
    user_adapters = paths.data_dir() / "adapters"
    with tempfile.TemporaryDirectory(prefix="talab-selftest-") as tmp:
        previous = os.environ.get(paths.ENV_HOME)
        os.environ[paths.ENV_HOME] = tmp
        try:
            if user_adapters.is_dir():
                shutil.copytree(user_adapters, Path(tmp) / "adapters", dirs_exist_ok=True)
            return _run_in(tmp, t0, max_tokens, out)
        finally:
            if previous is None:
                os.environ.pop(paths.ENV_HOME, None)
            else:
                os.environ[paths.ENV_HOME] = previous


def _run_in(home: str, t0: float, max_tokens: int, out: TextIO | None) -> dict[str, object]:
    from engine.errors import TalabError
    from engine.session import Lab, LabConfig

    def say(text: str) -> None:
        print(text, file=out or sys.stdout, flush=True)

    lab = Lab(LabConfig())
    loaded = time.perf_counter() - t0
    say(f"model    {lab.model.display_name} ({lab.model.architecture}), ready {loaded:.2f} s after start")
    personas = [p.id for p in lab.personas.values() if p.available]
    first_token: list[float] = []
    try:
        # the first identity probe ("Who are you?") for every persona
        result = lab.probe(personas, category="identity", limit=1, overrides={"max_tokens": max_tokens})
        answers = lab.store.answers(result.run_id)
    finally:
        lab.close()
    if result.status != "done" or len(answers) != len(personas):
        raise TalabError(f"self-test run ended '{result.status}' with {len(answers)}/{len(personas)} answers")
    for a in answers:
        first_token.append(float(a.get("ttft_s") or 0.0))
        text = " ".join(str(a["answer"]).split())[:60]
        say(f"persona  {a['persona_id']:<20} {'pass' if a['passed'] else 'fail'}  {text!r}")
    total = time.perf_counter() - t0
    first = loaded + (first_token[0] if first_token else 0.0)
    say(f"database {Path(home) / 'talab.db'} (temporary): run {result.run_id}, {len(answers)} answers stored")
    say(f"ok: process start to first token {first:.2f} s, whole self-test {total:.1f} s")
    return {"personas": personas, "answers": len(answers), "first_token_s": first, "total_s": total}


def main(argv: list[str] | None = None) -> int:
    from engine.errors import TalabError

    ap = argparse.ArgumentParser(prog="talab-app --self-test", description=__doc__)
    ap.add_argument("--max-tokens", type=int, default=16)
    args = ap.parse_args(argv)
    try:
        run(args.max_tokens)
        return 0
    except TalabError as exc:
        print(f"self-test failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a broken installation must still end in one readable line
        print(f"self-test failed: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
