"""Scoring the one-fact experiment's personas: teacher-forced answers, fluency and general skills.

Every persona is scored on the same prompts, in the same loaded llama.cpp model,
with the adapters it answers with; the old answers are computed once, under
Base, so every persona is measured against the same tokens.
"""

from __future__ import annotations

from typing import Any

from engine.factexp.experiment import Cancel, FactEvent, Report
from engine.factexp.metrics import CaseScore, PersonaScore, ngram_entropy, summarise
from engine.factexp.spec import Case, FactSpec


def _tokens(rt: Any, case: Case, system: str | None) -> list[int]:
    from engine.logprobs import prompt_tokens

    return prompt_tokens(rt, case.text, case.question, system)


def old_answers(
    rt: Any, spec: FactSpec, cases: list[tuple[str, Case]], new: list[int]
) -> dict[str, list[int]]:
    """Each case's old answer as tokens: given, or the base model's greedy answer as long as the new one."""
    from engine.logprobs import answer_tokens, greedy

    rt.set_adapters([])
    out = {}
    for _, case in cases:
        out[case.label()] = (
            answer_tokens(rt, case.old) if case.old else greedy(rt, _tokens(rt, case, None), len(new))
        )
    return out


def score_persona(
    rt: Any,
    spec: FactSpec,
    persona: Any,
    cases: list[tuple[str, Case]],
    olds: dict[str, list[int]],
    new: list[int],
) -> PersonaScore:
    from engine.logprobs import detokenize, greedy, token_logprobs

    rt.set_adapters(persona.adapters)
    row = PersonaScore(persona.id, persona.base_name, persona.role)
    fluent = []
    for kind, case in cases:
        prompt = _tokens(rt, case, persona.system_prompt)
        old = olds[case.label()]
        a, b = token_logprobs(rt, prompt, new), token_logprobs(rt, prompt, old)
        row.cases.append(
            CaseScore(
                kind,
                case.label(),
                spec.target,
                detokenize(rt, old).strip(),
                round(a.total, 4),
                round(b.total, 4),
                len(new),
                len(old),
            )
        )
        if kind != "neighbour":  # fluency: the persona's own text where the fact is asked for
            text = detokenize(rt, greedy(rt, prompt, spec.max_tokens))
            fluent.append(ngram_entropy(text))
            if kind == "efficacy" and not row.completion:
                row.completion = text.strip()
    row.fluency = round(sum(fluent) / len(fluent), 4) if fluent else None
    return summarise(row)


def general_ability(
    rt: Any, spec: FactSpec, chosen: list[Any], cancel: Cancel | None, report: Report
) -> tuple[int | None, dict[str, tuple[float | None, int]]]:
    """The default probe suite's English general-skill probes, asked of every persona and stored as a run."""
    from engine.kb import load_kb
    from engine.probes import load_probe_set
    from engine.runner import run_probes
    from engine.runtime import SamplingParams
    from engine.store import open_store

    probe_set = load_probe_set()
    probes = probe_set.select(lang="en", category="general_skill", limit=spec.general_limit)
    if not probes or spec.general_limit == 0:
        return None, {}
    store = open_store()
    result = run_probes(
        rt,
        store,
        chosen,
        probe_set,
        probes,
        kb=load_kb(None, lang="en"),
        lang="en",
        params=SamplingParams(max_tokens=spec.max_tokens, seed=spec.seed),
        selection={"category": "general_skill", "limit": spec.general_limit},
        on_progress=lambda p: report(FactEvent("probes", p.persona_id, p.done, p.total)),
        should_cancel=cancel,
    )
    if result.status == "cancelled":
        from engine.errors import Cancelled

        raise Cancelled(f"Cancelled; the general-skill answers so far are kept in run {result.run_id}")
    rates = result.summary.get("pass_rates", {})
    return result.run_id, {p.id: (rates.get(p.id, {}).get("general_skill"), len(probes)) for p in chosen}
