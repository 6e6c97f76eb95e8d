"""Fan probe questions out over personas, score them and store each answer.

Answers are grouped by persona so each adapter swap (and its KV-cache reset)
happens once per persona, not once per question. Each answer is committed the
moment it completes: a killed run keeps its finished answers and
:func:`run_probes` with ``resume_run`` asks only the missing ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from engine import scoring
from engine.batch import BatchRequest
from engine.chat import Message
from engine.errors import ServerError, StoreError
from engine.inference import LOCAL, BatchingRuntime, InferenceRuntime
from engine.kb import CourseKB
from engine.models import file_sha256
from engine.personas import Persona
from engine.probes import Probe, ProbeSet
from engine.runtime import Generation, SamplingParams
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


def source_of(runtime: InferenceRuntime) -> str:
    """Where answers are computed: ``local`` (in-process) or the server's URL."""
    return runtime.source


def run_origin(runtime: InferenceRuntime) -> dict[str, Any]:
    """A run's uuid and origin (machine, model, server): kept when runs are pooled into one database."""
    import platform
    import uuid

    model = runtime.model
    server = None if runtime.source == LOCAL else runtime.source
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


def adapter_groups(personas: list[Persona]) -> list[list[Persona]]:
    """Personas grouped by the exact adapter set they run under, in order of first appearance.

    A batch decodes under one set of weights, so only personas of one group can share it (Base and
    Prompted TA have none; Fine-tuned TA and Fine-tuned + prompt share theirs).
    """
    groups: dict[tuple[tuple[str, float], ...], list[Persona]] = {}
    for p in personas:
        groups.setdefault(tuple((str(a.path), float(a.scale)) for a in p.adapters), []).append(p)
    return list(groups.values())


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


@dataclass(frozen=True)
class Question:
    """One question every persona is asked; ``assertions`` None: an ask, stored but not scored."""

    id: str
    category: str
    text: str
    assertions: dict[str, Any] | None = None


def create_run(
    store: Store,
    runtime: InferenceRuntime,
    *,
    kind: str,
    kb: CourseKB,
    lang: str,
    personas: list[Persona],
    params: SamplingParams,
    overrides: dict[str, Any] | None = None,
    selection: dict[str, Any] | None = None,
    probe_set: ProbeSet | None = None,
) -> int:
    """The run row every kind of run starts with: enough to replay it (model, KB, params, seed)."""
    model = runtime.model
    fields: dict[str, Any] = {}
    if probe_set is not None:
        fields = {"probe_set": str(probe_set.path), "probe_set_hash": probe_set.sha256}
    return store.create_run(
        kind=kind,
        model_label=model.label,
        model_path=str(model.path),
        model_sha256=model.sha256,
        **fields,
        kb_path=str(kb.path),
        kb_hash=kb.sha256,
        lang=lang,
        personas=[p.id for p in personas],
        params={"sampling": params.as_dict(), "overrides": overrides or {}, **(selection or {})},
        seed=params.seed,
        n_ctx=runtime.n_ctx,
        **run_origin(runtime),
    )


def answer_all(
    runtime: InferenceRuntime,
    store: Store,
    run_id: int,
    personas: list[Persona],
    questions: list[Question],
    *,
    kb: CourseKB,
    params: SamplingParams,
    overrides: dict[str, Any] | None = None,
    done: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
    keep_cancelled: bool = False,
    spill: scoring.SpillReference | None = None,
    on_skip: Callable[[Persona, Question], None] | None = None,
    on_start: Callable[[Persona, Question], None] | None = None,
    on_token: Callable[[Persona, str], None] | None = None,
    on_answer: Callable[[Persona, Question, Generation, bool | None], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    batch: int = 1,
) -> tuple[str, int]:
    """Ask every persona every question not in ``done``; store each answer the moment it completes.

    The one loop behind asks and probe runs. Personas go in the outer loop so that each adapter swap
    (and its KV-cache reset) happens once per persona. A cancelled answer ends the run; it is kept
    only with ``keep_cancelled`` (an ask shows what streamed; a probe run asks it again on resume).
    With ``batch`` > 1 on a runtime that batches, personas sharing an adapter set answer together,
    ``batch`` sequences at a time (:mod:`engine.batch`).
    Returns the status ("done" or "cancelled") and how many answers were stored.
    """
    answered = 0
    source = source_of(runtime)

    def store_answer(persona: Persona, q: Question, gen: Generation, persona_params: SamplingParams) -> None:
        nonlocal answered
        scored: dict[str, Any] = {}
        ok = None
        if q.assertions is not None:
            checks = scoring.check(q.assertions, gen.text, question=q.text, category=q.category, spill=spill)
            ok = scoring.passed(checks)
            scored = {"passed": int(ok), "scores": checks}
        store.add_answer(
            run_id,
            **answer_record(
                gen, persona, runtime.model.sha256, kb, persona_params, adapter_record(persona), source
            ),
            probe_id=q.id,
            category=q.category,
            question=q.text,
            **scored,
        )
        answered += 1
        if on_answer:
            on_answer(persona, q, gen, ok)

    if batch > 1 and isinstance(runtime, BatchingRuntime):
        for group in adapter_groups(personas):
            runtime.set_adapters(group[0].adapters)
            todo: list[tuple[Persona, Question, SamplingParams]] = []
            for persona in group:
                for q in questions:
                    if (persona.id, q.id) in done:
                        if on_skip:
                            on_skip(persona, q)
                    else:
                        todo.append((persona, q, persona.params(params, overrides)))
            requests = [
                BatchRequest(
                    messages_for(p, q.text),
                    pp,
                    on_start=partial(on_start, p, q) if on_start else None,
                    on_token=partial(on_token, p) if on_token else None,
                )
                for p, q, pp in todo
            ]

            def finished(
                i: int, gen: Generation, todo: list[tuple[Persona, Question, SamplingParams]] = todo
            ) -> None:
                if gen.finish_reason != "cancelled" or keep_cancelled:
                    persona, q, persona_params = todo[i]
                    store_answer(persona, q, gen, persona_params)

            gens = runtime.generate_batch(
                requests, slots=batch, on_done=finished, should_cancel=should_cancel
            )
            if any(g is None or g.finish_reason == "cancelled" for g in gens):
                return "cancelled", answered
        return "done", answered

    for persona in personas:
        runtime.set_adapters(persona.adapters)
        persona_params = persona.params(params, overrides)
        for q in questions:
            if (persona.id, q.id) in done:
                if on_skip:
                    on_skip(persona, q)
                continue
            if on_start:
                on_start(persona, q)
            gen = runtime.generate(
                messages_for(persona, q.text),
                persona_params,
                on_token=partial(on_token, persona) if on_token else None,
                should_cancel=should_cancel,
            )
            cancelled = gen.finish_reason == "cancelled"
            if cancelled and not keep_cancelled:
                return "cancelled", answered
            store_answer(persona, q, gen, persona_params)
            if cancelled:
                return "cancelled", answered
    return "done", answered


def run_probes(
    runtime: InferenceRuntime,
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
    batch: int = 1,
) -> RunResult:
    model = runtime.model
    if resume_run is None:
        run_id = create_run(
            store, runtime, kind="probe", kb=kb, lang=lang, personas=personas, params=params,
            overrides=overrides, selection=selection, probe_set=probe_set,
        )  # fmt: skip
    else:
        run = store.get_run(resume_run)
        if run["model_sha256"] != model.sha256:
            raise StoreError(
                f"Run {resume_run} used model {run['model_label']} "
                f"(sha256 {run['model_sha256'][:12]}); load that model to resume it"
            )
        run_id = resume_run
        store.reopen_run(run_id)

    questions = [
        Question(p.id, p.category, p.question[lang], p.assertions.model_dump(exclude_none=True))
        for p in probes
    ]
    total = len(personas) * len(questions)
    count = 0

    def report(persona: Persona, q: Question, passed: bool | None = None, skipped: bool = False) -> None:
        nonlocal count
        count += 1
        if on_progress:
            where: dict[str, Any] = {"category": q.category, "run_id": run_id}
            if not skipped:
                where["question"] = q.text
            on_progress(Progress(count, total, persona.id, q.id, passed, skipped=skipped, **where))

    try:
        status, answered = answer_all(
            runtime, store, run_id, personas, questions, kb=kb, params=params, overrides=overrides,
            done=store.done_pairs(run_id), spill=spill_reference(kb, personas), should_cancel=should_cancel,
            on_skip=lambda p, q: report(p, q, skipped=True),
            on_answer=lambda p, q, _gen, ok: report(p, q, ok), batch=batch,
        )  # fmt: skip
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
