"""A real llama.cpp server on 127.0.0.1 for the tests: llama.cpp's own C++ server from the xllamacpp wheel.

It runs in a child process (``python -m engine.remote.embedded``) so a test can kill it the
way a lab machine goes away, and start it again on the same port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class ServerProcess:
    def __init__(
        self, model: Path, loras: list[Path], *, port: int = 0, parallel: int = 1, threads: int = 1
    ) -> None:
        self.model, self.loras, self.parallel, self.threads = model, loras, parallel, threads
        self.port = port
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 60.0) -> ServerProcess:
        cmd = [sys.executable, "-m", "engine.remote.embedded", "-m", str(self.model), "-t", str(self.threads),
               "-c", str(2048 * self.parallel), "-np", str(self.parallel), "--port", str(self.port),
               "--cache-ram", "0", "--lora-init-without-apply"]  # fmt: skip
        for lora in self.loras:
            cmd += ["--lora", str(lora)]
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening ") or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"the test server did not start: {line!r}")
        self.url = line.split()[1]
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._forget()

    def _forget(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def kill(self) -> None:
        """Go away the hard way, as a crashed or unplugged lab machine does."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
        self._forget()
