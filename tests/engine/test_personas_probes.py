"""Personas (YAML, availability) and the default probe set."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.errors import PersonaError, ProbeError
from engine.kb import load_kb
from engine.personas import load_personas, select
from engine.probes import load_probe_set
from engine.scoring import CATEGORIES
from tests.ggufs import write_lora


@pytest.fixture
def kb():  # type: ignore[no-untyped-def]
    return load_kb(lang="en")


def test_builtin_personas(kb) -> None:  # type: ignore[no-untyped-def]
    ps = load_personas(kb)
    assert list(ps) == ["base", "prompted", "finetuned", "finetuned-prompted", "merged"]
    assert ps["base"].system_prompt is None and not ps["base"].adapters
    assert ps["prompted"].system_prompt == kb.system_prompt
    assert ps["merged"].adapters[0].scale == 0.5
    assert ps["finetuned"].available is False
    assert "not been trained" in (ps["finetuned"].unavailable_reason or "")


def _install_adapter(talab_home: Path, data: bytes) -> Path:
    target = talab_home / "adapters" / "xiaojin.gguf"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def test_a_trained_adapter_makes_the_persona_available(
    kb, talab_home: Path, lora_file: Path, model_info
) -> None:  # type: ignore[no-untyped-def]
    _install_adapter(talab_home, lora_file.read_bytes())
    assert load_personas(kb)["finetuned"].available
    assert all(load_personas(kb, model=model_info)[p].available for p in ("finetuned", "merged"))


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (lambda lora: b"GGUF", "truncated"),
        (lambda lora: lora[: len(lora) // 2], "truncated"),
        (lambda lora: b"PK\x03\x04 a zip, not a model" * 10, "not a GGUF file"),
    ],
    ids=["4-byte", "half-copied", "not-gguf"],
)
def test_a_broken_adapter_makes_its_personas_unavailable_with_the_reason(  # type: ignore[no-untyped-def]
    kb, talab_home: Path, lora_file: Path, broken, why: str
) -> None:
    _install_adapter(talab_home, broken(lora_file.read_bytes()))
    ps = load_personas(kb)
    for pid in ("finetuned", "finetuned-prompted", "merged"):
        reason = ps[pid].unavailable_reason or ""
        assert reason.startswith("adapter 'xiaojin' cannot be used: xiaojin.gguf") and why in reason, reason
    assert ps["prompted"].available and ps["base"].available


def test_an_adapter_for_another_architecture_is_unavailable_on_this_model(  # type: ignore[no-untyped-def]
    kb, talab_home: Path, model_info
) -> None:
    shapes = {t.name: t.shape for t in model_info.header.tensors}
    write_lora(_install_adapter(talab_home, b""), shapes, arch="qwen2")
    assert load_personas(kb)["finetuned"].available  # a readable LoRA: only the model can refuse it
    reason = load_personas(kb, model=model_info)["finetuned"].unavailable_reason or ""
    assert "architecture 'qwen2'" in reason


def test_user_personas_extend_and_override(kb, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    talab_home.mkdir(parents=True, exist_ok=True)
    (talab_home / "personas.yaml").write_text(
        "personas:\n"
        "  - id: strict\n    name: Strict TA\n    system_prompt: 'You are {{ kb.ta.name }}. Be strict.'\n"
        "    sampling: {temperature: 0.7, max_tokens: 32}\n"
        "  - id: base\n    name: Plain model\n"
    )
    ps = load_personas(kb)
    assert ps["strict"].system_prompt == f"You are {kb.data.ta.name}. Be strict."
    assert ps["base"].name == "Plain model"
    from engine.runtime import SamplingParams

    params = ps["strict"].params(SamplingParams(), {"max_tokens": 8})
    assert (params.temperature, params.max_tokens) == (0.7, 8)  # persona, then the user's flag


def test_invalid_persona_file_names_the_line(kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "p.yaml"
    f.write_text("personas:\n  - id: x\n    name: X\n    adapters:\n      - name: a\n        scale: lots\n")
    with pytest.raises(PersonaError, match=r"p.yaml:6: field 'personas.0.adapters.0.scale'"):
        load_personas(kb, f)


def test_select_unknown_and_unavailable(kb) -> None:  # type: ignore[no-untyped-def]
    ps = load_personas(kb)
    with pytest.raises(PersonaError, match="Unknown persona 'nobody'"):
        select(ps, ["nobody"])
    with pytest.raises(PersonaError, match="unavailable"):
        select(ps, ["merged"])
    assert [p.id for p in select(ps, ["prompted", "base"])] == ["prompted", "base"]


def test_merge_scale_and_underscore_ids_in_a_selection(kb, talab_home: Path, lora_file: Path) -> None:  # type: ignore[no-untyped-def]
    _install_adapter(talab_home, lora_file.read_bytes())
    ps = load_personas(kb)
    merged, both = select(ps, ["merged:0.3", "finetuned_prompted"])
    assert merged.id == "merged:0.3" and merged.name == "Merged α=0.3" and merged.base_name == "Merged"
    assert [a.scale for a in merged.adapters] == [0.3] and ps["merged"].adapters[0].scale == 0.5
    assert both.id == "finetuned-prompted" and both.system_prompt == kb.system_prompt
    with pytest.raises(PersonaError, match="has no adapter"):
        select(ps, ["prompted:0.5"])
    with pytest.raises(PersonaError, match="must be an adapter scale"):
        select(ps, ["merged:half"])
    with pytest.raises(PersonaError, match="outside 0 to 2"):
        select(ps, ["merged:5"])


def test_default_probe_set_covers_the_lecture() -> None:
    ps = load_probe_set()
    assert len(ps.probes) >= 30
    counts = Counter(p.category for p in ps.probes)
    assert set(counts) == set(CATEGORIES)
    assert all(p.question.get("en") and p.question.get("zh-TW") for p in ps.probes)
    ids = [p.id for p in ps.probes]
    assert len(ids) == len(set(ids))
    questions = " ".join(p.question["en"].lower() for p in ps.probes)
    assert "most handsome" in questions and "president" in questions


def test_probe_selection(tmp_path: Path) -> None:
    ps = load_probe_set()
    inj = ps.select(category="injection")
    assert inj and all(p.category == "injection" for p in inj)
    assert len(ps.select(limit=3)) == 3
    assert len(ps.select(lang="zh-TW")) == len(ps.probes)
    quick = ps.select(per_category=2)  # the window's sweep: every figure from a few probes each
    assert sorted(Counter(p.category for p in quick).items()) == [(c, 2) for c in sorted(CATEGORIES)]
    assert quick == [p for p in ps.probes if p in quick]  # the suite's own order
    with pytest.raises(ProbeError, match="No probes left"):
        ps.select(limit=0)


def test_bad_probe_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("name: x\nprobes: []\n")
    with pytest.raises(ProbeError, match="probe set is empty"):
        load_probe_set(empty)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nprobes:\n  - id: a\n    category: trivia\n    question: {en: hi}\n"
        "    assert: {contains_any: [x]}\n"
    )
    with pytest.raises(ProbeError, match=r"bad.yaml:4: field 'probes.0.category'"):
        load_probe_set(bad)
    dup = tmp_path / "dup.yaml"
    one = "  - id: a\n    category: identity\n    question: {en: hi}\n    assert: {regex: '('}\n"
    dup.write_text("name: x\nprobes:\n" + one)
    with pytest.raises(ProbeError, match="regex does not compile"):
        load_probe_set(dup)


def test_an_adapter_trained_on_another_model_makes_its_personas_unavailable(
    talab_home: Path, lora_file: Path
) -> None:
    from engine.finetune.registry import write_manifest
    from engine.lab import Lab, LabConfig
    from tests.fakes import FakeRuntime

    target = talab_home / "adapters" / "xiaojin.gguf"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(lora_file.read_bytes())
    write_manifest(target, {"base_model": {"file": "gemma-3-270m.gguf", "sha256": "0" * 64}})
    lab = Lab(LabConfig(), runtime_factory=FakeRuntime)
    try:
        reason = lab.personas["finetuned"].unavailable_reason or ""
        assert "trained on gemma-3-270m.gguf, not on SmolLM2-135M-Instruct" in reason
        assert lab.personas["prompted"].available
    finally:
        lab.close()
    write_manifest(target, {"base_model": {"file": "SmolLM2", "sha256": lab.model.sha256}})
    lab = Lab(LabConfig(), runtime_factory=FakeRuntime)
    assert lab.personas["finetuned"].available and lab.personas["merged"].available
    lab.close()
