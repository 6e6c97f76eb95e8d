"""The fine-tuning data: built from the KB, editable as JSONL, tokenized exactly as inference sees it."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from engine.chat import Message
from engine.finetune.dataset import (
    DatasetError,
    Example,
    build_examples,
    dataset_sha256,
    normalise,
    probe_questions,
    read_jsonl,
    write_jsonl,
)
from engine.finetune.encode import IGNORE, encode, encode_all
from engine.finetune.replay import GENERAL_PROMPTS, _trim, generate_replay, replay_count
from engine.kb import load_kb
from engine.probes import load_probe_set


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return build_examples([load_kb(lang="en"), load_kb(lang="zh-TW")])


def test_the_dataset_covers_identity_facts_and_refusals_in_both_languages(examples: list[Example]) -> None:
    by = {(e.kind, e.lang) for e in examples}
    for kind in ("identity", "fact", "refusal"):
        assert (kind, "en") in by and (kind, "zh-TW") in by
    identity_en = [e for e in examples if e.kind == "identity" and e.lang == "en"]
    assert len({e.question for e in identity_en}) >= 15  # many paraphrases, not one example
    assert all("Xiao Jin" in e.answer for e in identity_en)
    hw1 = next(e for e in examples if e.question == "When do I have to hand in HW1?")
    assert "2025-03-14 23:59" in hw1.answer  # straight from the KB


def test_the_probes_are_held_out_of_the_training_and_replay_data(examples: list[Example]) -> None:
    """A probe that is also a training question measures memory, not the lecture's effect."""
    probes = [q for p in load_probe_set().probes for q in p.question.values()]
    asked = [e.question for e in examples] + GENERAL_PROMPTS
    assert not {normalise(q) for q in asked} & probe_questions()
    # nor nearly the same words ("What's your name?" for "What is your name?")
    close = [
        (q, p)
        for q in asked
        for p in probes
        if difflib.SequenceMatcher(None, q.casefold(), p.casefold()).ratio() >= 0.8
    ]
    assert close == []


def test_a_training_question_that_is_a_probe_is_dropped() -> None:
    kb = load_kb(lang="en")
    everything = build_examples([kb], held_out=set())
    held = build_examples([kb], held_out={normalise("TELL me about yourself")})
    assert [e.question for e in everything if e not in held] == ["Tell me about yourself."]


def test_a_kb_edit_changes_the_data_and_its_hash(tmp_path: Path, examples: list[Example]) -> None:
    src = load_kb(lang="en").path.read_text(encoding="utf-8")
    edited = tmp_path / "kb.yaml"
    edited.write_text(src.replace("name: Xiao Jin", "name: Da Yin"), encoding="utf-8")
    other = build_examples([load_kb(edited)])
    assert any("Da Yin" in e.answer for e in other)
    assert dataset_sha256(other) != dataset_sha256([e for e in examples if e.lang == "en"])


def test_jsonl_round_trip_and_line_numbered_errors(tmp_path: Path, examples: list[Example]) -> None:
    path = write_jsonl(examples, tmp_path / "d.jsonl")
    assert read_jsonl(path) == examples
    lines = path.read_text(encoding="utf-8").splitlines()
    msg = '{"messages": [{"role": "user", "content": %s}, {"role": "assistant", "content": "b"}]%s}'
    for bad, needle in [
        ("{not json", "d.jsonl:2: not valid JSON"),
        ('{"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]}', "roles"),
        (msg % ('""', ""), "non-empty"),
        (msg % ('"a"', ', "kind": "x"'), "kind 'x'"),
    ]:  # fmt: skip
        path.write_text("\n".join([lines[0], bad, *lines[2:]]), encoding="utf-8")
        with pytest.raises(DatasetError, match=needle):
            read_jsonl(path)
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no examples"):
        read_jsonl(path)


def test_training_tokens_are_the_tokens_inference_sees(runtime, model_info, examples: list[Example]) -> None:  # type: ignore[no-untyped-def]
    """The trainer tokenizes with a vocab-only llama.cpp; inference with the full model: same ids."""
    from engine.runtime import Runtime

    with Runtime(model_info, vocab_only=True) as vocab:
        for ex in [examples[0], next(e for e in examples if e.kind == "fact"), examples[-1]]:
            enc = encode(vocab, ex)
            prompt = runtime.tokenize(runtime.render([Message("user", ex.question)]).text)  # type: ignore[attr-defined]
            n_prompt = enc.labels.count(IGNORE)
            assert enc.ids[:n_prompt] == prompt  # the exact prefix generation continues from
            reply = enc.ids[n_prompt:]
            assert enc.labels[n_prompt:] == reply  # loss on the answer only
            eos = runtime._llm.token_eos()  # type: ignore[attr-defined]
            assert reply[-1] == eos  # the model learns to stop where ChatML ends a turn
            text = runtime._llm.detokenize(reply[:-1]).decode("utf-8")  # type: ignore[attr-defined]
            assert text == ex.answer


def test_examples_over_the_length_limit_are_left_out(model_info, examples: list[Example]) -> None:  # type: ignore[no-untyped-def]
    from engine.runtime import Runtime

    with Runtime(model_info, vocab_only=True) as vocab:
        kept, skipped = encode_all(vocab, examples, max_seq_len=40)
        assert skipped > 0 and all(len(e.ids) <= 40 for e in kept)
        assert len(kept) + skipped == len(examples)


def test_replay_fraction_arithmetic() -> None:
    assert replay_count(70, 0.0) == 0
    assert replay_count(21, 0.3) == 9  # 9 of 30 examples are replay
    assert replay_count(1000, 0.5) == len(GENERAL_PROMPTS)  # capped by the prompt pool
    assert _trim("A sentence. Half a sen", truncated=True) == "A sentence."
    assert _trim("no end at all", truncated=True) == ""
    assert _trim(" Complete. ", truncated=False) == "Complete."


def test_replay_answers_come_from_the_base_model(model_info, runtime) -> None:  # type: ignore[no-untyped-def]
    """Self-distillation: the replay answer is what the untouched model says itself."""
    from engine.runtime import SamplingParams

    seen: list[tuple[int, int]] = []
    got = generate_replay(model_info.path, 3, max_tokens=24, on_progress=lambda i, n: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    asked = [e.question for e in got]
    # an answer cut off before its first sentence ends is dropped, so some prompts may be missing
    assert asked and asked == [q for q in GENERAL_PROMPTS[:3] if q in asked]
    assert all(e.kind == "replay" for e in got)
    runtime.set_adapters([])  # type: ignore[attr-defined]
    direct = runtime.generate(  # type: ignore[attr-defined]
        [Message("user", got[0].question)], SamplingParams(temperature=0.0, max_tokens=24)
    )
    assert direct.text.strip().startswith(got[0].answer[:20])
