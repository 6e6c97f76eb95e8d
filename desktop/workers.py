"""Engine callbacks → Qt signals.

One ``LabWorker`` lives on one QThread and owns the llama context for its
whole life (llama.cpp contexts are not thread-safe). The GUI talks to it only
through queued signals; cancellation is a ``threading.Event`` the GUI sets
directly and the engine checks between tokens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from engine.errors import TalabError
from engine.lab import Lab, LabConfig
from engine.log import log_current_exception
from engine.runner import messages_for
from engine.runtime import window_threads

LabFactory = Callable[[LabConfig], Lab]

#: Streamed text reaches the window at most once per frame (30 per second), never once per token.
#: Measured under Xvfb: with a signal and a relayout per token the GUI thread competed with
#: llama.cpp's threads for 2 cores, and the window streamed at a third of the command line's rate.
FRAME_S = 1 / 30


class TokenCoalescer:
    """Joins streamed pieces into one chunk per persona per frame; ``flush`` sends what is left.

    Personas that share an adapter set answer in one batch, so their pieces interleave token by
    token: every persona's pending text goes out together, once per frame, and a persona's first
    piece at once (the column stops saying "Thinking...").
    """

    def __init__(self, emit: Callable[[str, str, int], None], frame_s: float = FRAME_S) -> None:
        self._emit = emit
        self.frame_s = frame_s
        self._parts: dict[str, list[str]] = {}
        self._started: set[str] = set()
        self._last = float("-inf")

    def add(self, pid: str, piece: str) -> None:
        self._parts.setdefault(pid, []).append(piece)
        first = pid not in self._started
        self._started.add(pid)
        if first or time.monotonic() - self._last >= self.frame_s:
            self.flush()

    def flush(self) -> None:
        for pid, parts in self._parts.items():
            if parts:
                self._emit(pid, "".join(parts), len(parts))
        self._parts = {}
        self._last = time.monotonic()


class LabWorker(QObject):
    # requests (GUI → worker, queued)
    load_requested = Signal(object)
    ask_requested = Signal(str, list, dict)
    probe_requested = Signal(list, dict)
    resume_requested = Signal(int)
    count_requested = Signal(int, str)
    complete_requested = Signal(int, str, str)  # request id, text, persona id
    threads_requested = Signal(int)  # 0: the default again
    warm_requested = Signal(list)  # persona ids whose system prompts to evaluate ahead of a question
    # reports (worker → GUI)
    loaded = Signal(object)  # session.LabInfo
    failed = Signal(str)
    busy = Signal(bool)
    answer_started = Signal(str)
    token = Signal(str, str, int)  # persona, text, tokens in it (one chunk per frame)
    answer_done = Signal(str, dict)
    ask_finished = Signal(int)
    progress = Signal(dict)  # runner.Progress as a dict: done, total, persona_id, probe_id, passed…
    probe_finished = Signal(dict)
    counted = Signal(int, int)  # request id, tokens (-1: no model to count with)
    completed = Signal(int, str, str)  # request id, persona id, the raw continuation

    def __init__(self, factory: LabFactory | None = None) -> None:
        super().__init__()
        self._factory: LabFactory = factory or (lambda cfg: Lab(cfg))
        self.lab: Lab | None = None
        self.cancel_event = threading.Event()
        self.threads = 0  # inference threads asked for (0: the runtime's default)
        self.load_requested.connect(self._load)
        self.ask_requested.connect(self._ask)
        self.probe_requested.connect(self._probe)
        self.resume_requested.connect(self._resume)
        self.count_requested.connect(self._count)
        self.complete_requested.connect(self._complete)
        self.threads_requested.connect(self._set_threads)
        # queued even when emitted on the worker thread itself: each persona's warm-up is its own event,
        # so a load ends (and the window stops being busy) before the first prefix is evaluated, and a
        # question asked meanwhile waits for one prefix at most
        self.warm_requested.connect(self._warm, Qt.ConnectionType.QueuedConnection)

    def cancel(self) -> None:
        """Safe from any thread: the engine stops at the next token."""
        self.cancel_event.set()

    def _guard(self, job: Callable[[], None]) -> None:
        self.cancel_event.clear()
        self.busy.emit(True)
        try:
            job()
        except TalabError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # never let a worker exception become a crash dialog
            self.failed.emit(f"Unexpected {type(exc).__name__}: {exc} (details in {log_current_exception()})")
        finally:
            self.busy.emit(False)

    @Slot(object)
    def _load(self, config: LabConfig) -> None:
        def job() -> None:
            if self.lab is not None:
                self.lab.close()
                self.lab = None
            # "auto" in a window: leave the GUI thread a core
            auto = config.n_threads is None
            lab = self._factory(replace(config, n_threads=window_threads()) if auto else config)
            self.lab = lab
            if self.threads:
                self._set_threads(self.threads)
            self.loaded.emit(lab.info())
            self.warm_requested.emit([p.id for p in lab.personas.values() if p.available])

        self._guard(job)

    @Slot(list)
    def _warm(self, persona_ids: list[str]) -> None:
        """Put one persona's system prompt in the prompt cache, then queue the next one.

        The class reads or types meanwhile, so even the first question's Prompted TA answers
        from the cache. One persona per call: a question asked meanwhile waits for one prefix
        at most (queued signals run in order), and no busy state is shown.
        """
        lab = self.lab
        if lab is None or not persona_ids:
            return
        persona = lab.personas.get(persona_ids[0])
        try:
            if persona is not None and persona.available:
                lab.runtime.set_adapters(persona.adapters)
                lab.runtime.warm(messages_for(persona, "?"))
        except Exception:  # only a head start: the question computes the prefix itself and reports errors
            pass
        if persona_ids[1:]:
            self.warm_requested.emit(persona_ids[1:])

    @Slot(str, list, dict)
    def _ask(self, question: str, persona_ids: list[str], overrides: dict[str, Any]) -> None:
        def job() -> None:
            if self.lab is None:
                raise TalabError("The model is not loaded yet")
            chunks = TokenCoalescer(self.token.emit)

            def done(p: Any, g: Any) -> None:
                chunks.flush()
                self.answer_done.emit(p.id, {
                    "text": g.text, "finish_reason": g.finish_reason,
                    "completion_tokens": g.completion_tokens, "tokens_per_s": g.tokens_per_s,
                    "ttft_s": g.ttft_s, "prompt_tokens": g.prompt_tokens,
                    "prefill_tokens": g.prefill_tokens, "cached_tokens": g.cached_tokens,
                })  # fmt: skip

            try:
                run_id = self.lab.ask(
                    question, persona_ids, overrides,
                    on_start=lambda p: self.answer_started.emit(p.id),
                    on_token=lambda p, s: chunks.add(p.id, s),
                    on_answer=done,
                    should_cancel=self.cancel_event.is_set,
                )  # fmt: skip
            finally:
                chunks.flush()
            self.ask_finished.emit(run_id)

        self._guard(job)

    def _report(self, result: Any) -> None:
        self.probe_finished.emit(
            {"run_id": result.run_id, "status": result.status, "summary": result.summary}
        )

    @Slot(list, dict)
    def _probe(self, persona_ids: list[str], options: dict[str, Any]) -> None:
        def job() -> None:
            if self.lab is None:
                raise TalabError("The model is not loaded yet")
            self._report(
                self.lab.probe(
                    persona_ids,
                    on_progress=lambda p: self.progress.emit(asdict(p)),
                    should_cancel=self.cancel_event.is_set,
                    **options,
                )
            )

        self._guard(job)

    @Slot(int)
    def _resume(self, run_id: int) -> None:
        """Finish an interrupted probe run: only its missing answers are asked."""

        def job() -> None:
            if self.lab is None:
                raise TalabError("The model is not loaded yet")
            self._report(
                self.lab.resume_probe(
                    run_id,
                    on_progress=lambda p: self.progress.emit(asdict(p)),
                    should_cancel=self.cancel_event.is_set,
                )
            )

        self._guard(job)

    @Slot(int, str)
    def _count(self, request: int, text: str) -> None:
        """The loaded model's own token count (the KB editor's preview); no busy state, no banner."""
        try:
            n = self.lab.runtime.count_tokens(text) if self.lab is not None else -1
        except Exception:  # a count is a hint: the editor falls back to an estimate
            n = -1
        self.counted.emit(request, int(n))

    @Slot(int, str, str)
    def _complete(self, request: int, text: str, persona_id: str) -> None:
        """A persona's greedy continuation of a prompt: the Edit tab's before and after."""

        def job() -> None:
            if self.lab is None:
                raise TalabError("The model is not loaded yet")
            self.completed.emit(request, persona_id, self.lab.complete(text, persona_id))

        self._guard(job)

    @Slot(int)
    def _set_threads(self, n: int) -> None:
        """Training shares the CPU: fewer inference threads keep both fast (see Runtime.set_threads)."""
        self.threads = n
        if self.lab is not None:
            self.lab.runtime.set_threads(n)

    @Slot()
    def shutdown_slot(self) -> None:
        if self.lab is not None:
            self.lab.close()
            self.lab = None


class WorkerThread:
    """Starts the worker on its own QThread and stops it cleanly on exit."""

    def __init__(self, worker: LabWorker) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("talab-inference")
        worker.moveToThread(self.thread)
        self.thread.start()

    def stop(self) -> None:
        """Idempotent: a window can be closed twice (user, then test teardown)."""
        if not self.thread.isRunning():
            return
        self.worker.cancel()
        # close the model on its own thread, then end the loop
        from PySide6.QtCore import QMetaObject, Qt

        QMetaObject.invokeMethod(self.worker, "shutdown_slot", Qt.ConnectionType.BlockingQueuedConnection)
        self.thread.quit()
        self.thread.wait(10_000)
