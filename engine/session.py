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

from engine.errors import TalabError
from engine.kb import CourseKB, load_kb
from engine.models import ModelInfo, load_model_info
from engine.personas import Persona, load_personas, select
from engine.probes import ProbeSet, load_probe_set
from engine.runner import (
    Progress,
    RunResult,
    adapter_record,
    answer_record,
    messages_for,
    run_origin,
    run_probes,
    source_of,
)
from engine.runtime import DEFAULT_N_CTX, Generation, Runtime, SamplingParams
from engine.store import Store, open_store

RuntimeFactory = Callable[..., Any]


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


class Lab:
    def __init__(
        self, config: LabConfig, *, runtime_factory: RuntimeFactory = Runtime, store: Store | None = None
    ) -> None:
        self.config = config
        self.kb: CourseKB = load_kb(config.kb, lang=config.lang)
        self.personas: dict[str, Persona] = load_personas(self.kb, config.personas_file)
        self.store = store or open_store()
        if config.server:
            from engine.remote import connect

            self.runtime = connect(config.server, timeout_s=config.server_timeout_s)
            self.model: ModelInfo = self.runtime.model
            self._refuse_adapters_for_other_models()
            return
        self.model = load_model_info(config.model)
        self._refuse_adapters_for_other_models()
        self.runtime = runtime_factory(self.model, n_ctx=config.n_ctx)

    def close(self) -> None:
        self.runtime.close()

    def _refuse_adapters_for_other_models(self) -> None:
        """An adapter trained on another base model makes its personas unavailable, with the reason.

        Its manifest names the base model's sha256. Without this check an adapter of the same
        shape would load silently onto the wrong model (the class would see nonsense), and one of
        another architecture would fail only when a question is asked.
        """
        from engine.finetune.registry import read_manifest

        for persona in self.personas.values():
            for adapter in persona.adapters if persona.available else []:
                base = (read_manifest(adapter.path) or {}).get("base_model") or {}
                # a server's model is known by its file hash only when the file is on this machine
                model_sha = getattr(self.model, "local_sha256", self.model.sha256)
                if base.get("sha256") and model_sha and base["sha256"] != model_sha:
                    persona.unavailable_reason = (
                        f"adapter '{adapter.path.stem}' was trained on {base.get('file', 'another model')}, "
                        f"not on {self.model.display_name}: train it again for this model"
                    )

    def prompt_tokens(self) -> int:
        return int(self.runtime.count_tokens(self.kb.system_prompt))

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
    ) -> int:
        """Ask every persona the same question; each answer is stored as it completes."""
        chosen = select(self.personas, persona_ids)
        base = SamplingParams()
        run_id = self.store.create_run(
            kind="ask",
            model_label=self.model.label,
            model_path=str(self.model.path),
            model_sha256=self.model.sha256,
            kb_path=str(self.kb.path),
            kb_hash=self.kb.sha256,
            lang=self.config.lang,
            personas=[p.id for p in chosen],
            params={"sampling": base.as_dict(), "overrides": overrides or {}},
            seed=base.seed,
            n_ctx=self.runtime.n_ctx,
            **run_origin(self.runtime),
        )
        status = "done"
        for persona in chosen:
            params = persona.params(base, overrides)
            self.runtime.set_adapters(persona.adapters)
            if on_start:
                on_start(persona)
            gen = self.runtime.generate(
                messages_for(persona, question),
                params,
                on_token=(lambda s, p=persona: on_token(p, s)) if on_token else None,
                should_cancel=should_cancel,
            )
            record = answer_record(
                gen,
                persona,
                self.model.sha256,
                self.kb,
                params,
                adapter_record(persona),
                source_of(self.runtime),
            )
            self.store.add_answer(run_id, **record, probe_id="ask", category="ask", question=question)
            if on_answer:
                on_answer(persona, gen)
            if gen.finish_reason == "cancelled":
                status = "cancelled"
                break
        self.store.finish_run(run_id, status)
        return run_id

    def complete(self, text: str, persona_id: str, max_tokens: int = 24) -> str:
        """A persona's raw continuation of ``text`` (the Edit tab's before/after); not stored."""
        [persona] = select(self.personas, [persona_id])
        self.runtime.set_adapters(persona.adapters)
        return str(self.runtime.complete(text, max_tokens))

    def probe(
        self,
        persona_ids: list[str],
        *,
        probes_file: Path | None = None,
        category: str | None = None,
        limit: int | None = None,
        overrides: dict[str, Any] | None = None,
        resume_run: int | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> RunResult:
        chosen = select(self.personas, persona_ids)
        probe_set: ProbeSet = load_probe_set(probes_file)
        probes = probe_set.select(lang=self.config.lang, category=category, limit=limit)
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
            selection={"category": category, "limit": limit},
            resume_run=resume_run,
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
        timings stay as they were. The GUI's Resume uses it; ``talab probe --resume`` does the
        same from the command line.
        """
        run = self.store.get_run(run_id)
        if run.get("kind") != "probe":
            raise TalabError(f"Run {run_id} is a {run.get('kind')} run; only probe runs can be resumed")
        if run.get("status") == "done":
            raise TalabError(f"Run {run_id} already finished; nothing to resume")
        if run.get("status") == "running":  # its process is alive: two writers would ask twice
            raise TalabError(f"Run {run_id} is still running (process {run.get('pid')})")
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
            overrides=params.get("overrides") or {},
            resume_run=run_id,
            on_progress=on_progress,
            should_cancel=should_cancel,
        )
