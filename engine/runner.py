"""Fan probe questions out over personas, score them and store each answer.

Answers are grouped by persona so each adapter swap (and its KV-cache reset)
happens once per persona, not once per question. Each answer is committed the
moment it completes: a killed run keeps its finished answers and
:func:`run_probes` with ``resume_run`` asks only the missing ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import scoring
from engine.chat import Message
from engine.errors import ServerError, StoreError
from engine.kb import CourseKB
from engine.models import file_sha256
from engine.personas import Persona
from engine.probes import Probe, ProbeSet
from engine.runtime import Generation, Runtime, SamplingParams
from engine.store import Store


@dataclass
class Progress:
    done: int
    total: int
    persona_id: str
    probe_id: str
    passed: bool | None = None
    skipped: bool = False
    category: str = ""  # with the question: a live grid can place a cell before the run ends
    question: str = ""
    run_id: int = 0


@dataclass
class RunResult:
    run_id: int
    status: str  # "done" | "cancelled"
    summary: dict[str, Any]
    answered: int


def source_of(runtime: Any) -> str:
    """Where answers are computed: ``local`` (in-process) or the server's URL."""
    return str(getattr(runtime, "source", None) or "local")


def run_origin(runtime: Any) -> dict[str, Any]:
    """A run's uuid and origin (machine, model, server): kept when runs are pooled into one database."""
    import platform
    import uuid

    model = runtime.model
    server = getattr(runtime, "source", None)
    origin = {
        "machine": platform.node(),
        "model": model.label,
        "model_sha256": model.sha256,
        "server": server,
    }
    return {"uuid": uuid.uuid4().hex, "origin": origin}


def messages_for(persona: Persona, question: str) -> list[Message]:
    msgs = []
    if persona.system_prompt:
        msgs.append(Message("system", persona.system_prompt))
    msgs.append(Message("user", question))
    return msgs


def answer_record(
    gen: Generation,
    persona: Persona,
    model_sha256: str,
    kb: CourseKB,
    params: SamplingParams,
    adapters: list[dict[str, Any]],
    source: str = "local",
) -> dict[str, Any]:
    """Everything needed to replay one answer, as stored with it."""
    return {
        "source": source,
        "persona_id": persona.id,
        "system_prompt": persona.system_prompt,
        "prompt": gen.prompt,
        "answer": gen.text,
        "finish_reason": gen.finish_reason,
        "prompt_tokens": gen.prompt_tokens,
        "completion_tokens": gen.completion_tokens,
        "ttft_s": round(gen.ttft_s, 4),
        "tokens_per_s": round(gen.tokens_per_s, 2),
        "model_sha256": model_sha256,
        "adapters": adapters,
        "kb_hash": kb.sha256 if persona.system_prompt else None,
        "params": params.as_dict(),
        "seed": params.seed,
    }


def adapter_record(persona: Persona) -> list[dict[str, Any]]:
    return [{"path": str(a.path), "sha256": file_sha256(a.path), "scale": a.scale} for a in persona.adapters]


def spill_reference(kb: CourseKB, personas: list[Persona]) -> scoring.SpillReference:
    """What spill-over is measured against: the KB's training answers plus every adapter's dataset.

    The same reference for every persona of a run, so their verdicts stay comparable (paired).
    """
    from engine.scorers.spill import reference_for_adapters, reference_from_kbs

    ref = reference_from_kbs([kb])
    trained = reference_for_adapters(a.path for p in personas for a in p.adapters)
    if trained is not None:
        ref = scoring.SpillReference(ref.answers + trained.answers, f"kb+{trained.origin}")
    return ref


def run_probes(
    runtime: Runtime,
    store: Store,
    personas: list[Persona],
    probe_set: ProbeSet,
    probes: list[Probe],
    *,
    kb: CourseKB,
    lang: str,
    params: SamplingParams,
    overrides: dict[str, Any] | None = None,
    selection: dict[str, Any] | None = None,
    resume_run: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> RunResult:
    model = runtime.model
    if resume_run is None:
        run_id = store.create_run(
            kind="probe",
            model_label=model.label,
            model_path=str(model.path),
            model_sha256=model.sha256,
            probe_set=str(probe_set.path),
            probe_set_hash=probe_set.sha256,
            kb_path=str(kb.path),
            kb_hash=kb.sha256,
            lang=lang,
            personas=[p.id for p in personas],
            params={"sampling": params.as_dict(), "overrides": overrides or {}, **(selection or {})},
            seed=params.seed,
            n_ctx=runtime.n_ctx,
            **run_origin(runtime),
        )
    else:
        run = store.get_run(resume_run)
        if run["model_sha256"] != model.sha256:
            raise StoreError(
                f"Run {resume_run} used model {run['model_label']} "
                f"(sha256 {run['model_sha256'][:12]}); load that model to resume it"
            )
        run_id = resume_run
        store.reopen_run(run_id)

    spill = spill_reference(kb, personas)
    done = store.done_pairs(run_id)
    source = source_of(runtime)
    total = len(personas) * len(probes)
    count = answered = 0
    status = "done"
    try:
        for persona in personas:
            runtime.set_adapters(persona.adapters)
            adapters = adapter_record(persona)
            persona_params = persona.params(params, overrides)
            for probe in probes:
                count += 1
                where: dict[str, Any] = {"category": probe.category, "run_id": run_id}
                if (persona.id, probe.id) in done:
                    if on_progress:
                        on_progress(Progress(count, total, persona.id, probe.id, skipped=True, **where))
                    continue
                question = probe.question[lang]
                gen = runtime.generate(
                    messages_for(persona, question), persona_params, should_cancel=should_cancel
                )
                if gen.finish_reason == "cancelled":
                    status = "cancelled"
                    break
                checks = scoring.check(
                    probe.assertions.model_dump(exclude_none=True),
                    gen.text,
                    question=question,
                    category=probe.category,
                    spill=spill,
                )
                ok = scoring.passed(checks)
                store.add_answer(
                    run_id,
                    **answer_record(gen, persona, model.sha256, kb, persona_params, adapters, source),
                    probe_id=probe.id,
                    category=probe.category,
                    question=question,
                    passed=int(ok),
                    scores=checks,
                )
                answered += 1
                if on_progress:
                    on_progress(Progress(count, total, persona.id, probe.id, ok, question=question, **where))
            if status == "cancelled":
                break
    except ServerError as exc:  # the server went away: keep the run resumable, say how
        store.finish_run(run_id, "interrupted")
        raise ServerError(
            f"{exc}; run {run_id} keeps its answers: finish it with talab probe --resume {run_id} "
            "once the server is back",
            status=exc.status,
        ) from None

    summary = scoring.summarize(store.answers(run_id), [p.id for p in personas])
    store.finish_run(run_id, status, summary)
    return RunResult(run_id, status, summary, answered)


def compare_runs(store: Store, original: int, replay: int) -> dict[str, Any]:
    """Which answers a replay reproduced, word for word (the replayability check)."""
    before = {(a["persona_id"], a["probe_id"]): a["answer"] for a in store.answers(original)}
    after = {(a["persona_id"], a["probe_id"]): a["answer"] for a in store.answers(replay)}
    shared = sorted(set(before) & set(after))
    differing = [f"{p}/{q}" for p, q in shared if before[(p, q)] != after[(p, q)]]
    return {
        "original": original,
        "compared": len(shared),
        "identical": len(shared) - len(differing),
        "differing": differing,
    }
