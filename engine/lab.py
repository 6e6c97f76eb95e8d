"""A ``Lab``: one model, one KB, the personas and the store, wired together.

Both front ends (CLI and desktop) drive the engine through this class so an
answer asked in the GUI is logged exactly like one asked on the command line.
The runtime is created through ``runtime_factory`` so GUI tests can swap in a
scripted model while everything else (KB, personas, scoring, SQLite) stays real.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.batch import DEFAULT_SLOTS
from engine.errors import TalabError
from engine.inference import InferenceRuntime, RuntimeFactory
from engine.kb import CourseKB, load_kb
from engine.models import ModelInfo, load_model_info
from engine.personas import Persona, load_personas, select
from engine.probes import ProbeSet, load_probe_set
from engine.runner import Progress, Question, RunResult, answer_all, create_run, run_probes
from engine.runs import resumable_probe_run
from engine.runtime import DEFAULT_N_CTX, Generation, Runtime, SamplingParams
from engine.store import Store, open_store


@dataclass(frozen=True)
class PersonaInfo:
    """What a front end shows of a persona; plain data, so it crosses a thread or a process."""

    id: str
    name: str  # in English, as the CLI prints it
    base_name: str  # the name without α: a front end translates this and adds name_scale
    name_scale: float | None  # the α the name shows; None for a name without one
    role: str
    available: bool
    reason: str  # why not available ("" when it is)
    adapters: tuple[tuple[str, float], ...]  # (adapter name, scale)
    system_prompt: str  # "" without one
    scale: float | None  # the first adapter's scale (the Merged α); None without adapters

    @classmethod
    def of(cls, p: Persona) -> PersonaInfo:
        return cls(
            id=p.id,
            name=p.name,
            base_name=p.base_name,
            name_scale=p.name_scale,
            role=p.role,
            available=p.available,
            reason=p.unavailable_reason or "",
            adapters=tuple((a.path.stem, a.scale) for a in p.adapters),
            system_prompt=p.system_prompt or "",
            scale=p.adapters[0].scale if p.adapters else None,
        )


@dataclass(frozen=True)
class LabInfo:
    """What a loaded Lab is: the model, the KB, the prompt's size and the personas."""

    model: str
    model_path: str
    n_ctx: int
    kb: str
    kb_title: str
    prompt_tokens: int
    personas: tuple[PersonaInfo, ...]


@dataclass
class LabConfig:
    model: str | Path = "default"
    kb: Path | None = None
    lang: str = "en"
    personas_file: Path | None = None
    n_ctx: int = DEFAULT_N_CTX
    n_threads: int | None = None  # None: llama.cpp threads = physical cores (see runtime.physical_cores)
    server: str | None = None  # a llama-server or vLLM URL: answers come from there, not in-process
    server_timeout_s: float = 120.0
    #: answers decoded at once by an in-process model (engine.batch); 1: one after another
    batch: int = DEFAULT_SLOTS


class Lab:
    def __init__(
        self, config: LabConfig, *, runtime_factory: RuntimeFactory = Runtime, store: Store | None = None
    ) -> None:
        self.config = config
        self.kb: CourseKB = load_kb(config.kb, lang=config.lang)
        self.store = store or open_store()
        self.runtime: InferenceRuntime
        if config.server:
            from engine.remote import connect

            self.runtime = connect(config.server, timeout_s=config.server_timeout_s)
            self.model: ModelInfo = self.runtime.model
            self.personas: dict[str, Persona] = load_personas(self.kb, config.personas_file, self.model)
            return
        self.model = load_model_info(config.model)
        self.personas = load_personas(self.kb, config.personas_file, self.model)
        self.runtime = runtime_factory(self.model, n_ctx=config.n_ctx, n_threads=config.n_threads)

    def close(self) -> None:
        self.runtime.close()

    def prompt_tokens(self) -> int:
        return int(self.runtime.count_tokens(self.kb.system_prompt))

    def info(self) -> LabInfo:
        return LabInfo(
            model=self.model.display_name,
            model_path=str(self.model.path),
            n_ctx=self.runtime.n_ctx,
            kb=str(self.kb.path),
            kb_title=self.kb.data.course.title,
            prompt_tokens=self.prompt_tokens(),
            personas=tuple(PersonaInfo.of(p) for p in self.personas.values()),
        )

    def ask(
        self,
        question: str,
        persona_ids: list[str],
        overrides: dict[str, Any] | None = None,
        *,
        on_start: Callable[[Persona], None] | None = None,
        on_token: Callable[[Persona, str], None] | None = None,
        on_answer: Callable[[Persona, Generation], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
        batch: int | None = None,
    ) -> int:
        """Ask every persona the same question; each answer is stored as it completes.

        Personas that share an adapter set answer in one batch (``batch`` None: the config's), so
        their tokens interleave; a terminal that prints one stream asks with ``batch=1``.
        """
        chosen = select(self.personas, persona_ids)
        params = SamplingParams()
        batch = self.config.batch if batch is None else batch
        run_id = create_run(
            self.store, self.runtime, kind="ask", kb=self.kb, lang=self.config.lang, personas=chosen,
            params=params, overrides=overrides, selection={"batch": batch},
        )  # fmt: skip
        status, _ = answer_all(
            self.runtime, self.store, run_id, chosen, [Question("ask", "ask", question)],
            kb=self.kb, params=params, overrides=overrides, keep_cancelled=True,
            on_start=(lambda p, _q: on_start(p)) if on_start else None,
            on_token=on_token,
            on_answer=(lambda p, _q, gen, _ok: on_answer(p, gen)) if on_answer else None,
            should_cancel=should_cancel, batch=batch,
        )  # fmt: skip
        self.store.finish_run(run_id, status)
        return run_id

    def complete(self, text: str, persona_id: str, max_tokens: int = 24) -> str:
        """A persona's raw continuation of ``text`` (the Edit tab's before/after); not stored."""
        [persona] = select(self.personas, [persona_id])
        self.runtime.set_adapters(persona.adapters)
        return self.runtime.complete(text, max_tokens)

    def probe(
        self,
        persona_ids: list[str],
        *,
        probes_file: Path | None = None,
        category: str | None = None,
        limit: int | None = None,
        per_category: int | None = None,
        overrides: dict[str, Any] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
        batch: int | None = None,
        _resume_run: int | None = None,
    ) -> RunResult:
        """A new probe run; :meth:`resume_probe` is the only way to continue an old one.

        ``batch`` answers are decoded at once (None: the config's); the run records it, so a resume
        asks the missing answers the same way and a replay knows which layout the answers came from.
        """
        batch = self.config.batch if batch is None else batch
        chosen = select(self.personas, persona_ids)
        probe_set: ProbeSet = load_probe_set(probes_file)
        probes = probe_set.select(
            lang=self.config.lang, category=category, limit=limit, per_category=per_category
        )
        return run_probes(
            self.runtime,
            self.store,
            chosen,
            probe_set,
            probes,
            kb=self.kb,
            lang=self.config.lang,
            params=SamplingParams(),
            overrides=overrides,
            selection={"category": category, "limit": limit, "per_category": per_category, "batch": batch},
            resume_run=_resume_run,
            batch=batch,
            on_progress=on_progress,
            should_cancel=should_cancel,
        )

    def resume_probe(
        self,
        run_id: int,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> RunResult:
        """Finish a cancelled or killed probe run with the settings it was started with.

        Only the missing (persona, probe) pairs are asked, so the finished answers and their
        timings stay as they were. The GUI's Resume and ``talab probe --resume`` both come here.
        """
        run = resumable_probe_run(self.store, run_id)
        if run.get("lang") != self.config.lang:
            raise TalabError(
                f"Run {run_id} asked its questions in {run.get('lang')}; switch the course language "
                f"to {run.get('lang')} to resume it"
            )
        params = run.get("params") or {}
        return self.probe(
            list(run.get("personas") or []),
            probes_file=Path(run["probe_set"]) if run.get("probe_set") else None,
            category=params.get("category"),
            limit=params.get("limit"),
            per_category=params.get("per_category"),
            overrides=params.get("overrides") or {},
            batch=int(params.get("batch", 1)),  # runs from before batching were sequential
            _resume_run=run_id,
            on_progress=on_progress,
            should_cancel=should_cancel,
        )
