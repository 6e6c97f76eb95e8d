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
from engine.errors import StoreError
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
) -> dict[str, Any]:
    """Everything needed to replay one answer, as stored with it."""
    return {
        "persona_id": persona.id,
        "system_prompt": persona.system_prompt,
        "prompt": gen.prompt,
        "answer": gen.text,
        "finish_reason": gen.finish_reason,
        "prompt_tokens": gen.prompt_tokens,
        "completion_tokens": gen.completion_tokens,
        "ttft_s": round(gen.ttft_s, 4),
        "prefill_tokens": gen.prefill_tokens,
        "cached_tokens": gen.cached_tokens,
        "batched": int(gen.batched),
        "tokens_per_s": round(gen.tokens_per_s, 2),
        "model_sha256": model_sha256,
        "adapters": adapters,
        "kb_hash": kb.sha256 if persona.system_prompt else None,
        "params": params.as_dict(),
        "seed": params.seed,
    }


def adapter_record(persona: Persona) -> list[dict[str, Any]]:
    return [{"path": str(a.path), "sha256": file_sha256(a.path), "scale": a.scale} for a in persona.adapters]


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

    done = store.done_pairs(run_id)
    total = len(personas) * len(probes)
    count = answered = 0
    status = "done"
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
            checks = scoring.check(probe.assertions.model_dump(exclude_none=True), gen.text)
            ok = scoring.passed(checks)
            store.add_answer(
                run_id,
                **answer_record(gen, persona, model.sha256, kb, persona_params, adapters),
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
