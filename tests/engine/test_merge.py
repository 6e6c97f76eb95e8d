"""Merging on small synthetic LoRAs: every rule against a plain-numpy reference written here.

The references loop over entries the way the papers state the rules, so they share
no code with :mod:`engine.merge.methods`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.errors import MergeError, PersonaError
from engine.finetune.gguf_lora import write_gguf_adapter
from engine.merge import methods
from engine.merge.build import MergeSpec, Source, load_sources, merge, save_merge
from engine.merge.factors import read_lora

SHAPES = {"blk.0.attn_q.weight": (48, 40), "blk.0.ffn_down.weight": (40, 64), "blk.1.attn_v.weight": (16, 40)}


def make_lora(path: Path, seed: int, rank: int = 3, alpha: float = 6.0, shapes: dict | None = None) -> Path:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, (n_out, n_in) in (shapes or SHAPES).items():
        tensors[f"{name}.lora_a"] = rng.normal(0, 0.3, (rank, n_in)).astype(np.float32)
        tensors[f"{name}.lora_b"] = rng.normal(0, 0.3, (n_out, rank)).astype(np.float32)
    return write_gguf_adapter(path, tensors, arch="llama", alpha=alpha)


def ref_delta(path: Path, tensor: str) -> np.ndarray:
    """(alpha / r) · B · A straight from the file, as llama.cpp defines it."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    t = {x.name: np.array(x.data, dtype=np.float64) for x in reader.tensors}
    alpha = float(reader.fields["adapter.lora.alpha"].parts[-1][0])
    b, a = t[f"{tensor}.lora_b"], t[f"{tensor}.lora_a"]
    return alpha / b.shape[1] * (b @ a)


def ref_ties(deltas: list[np.ndarray], weights: list[float], density: float) -> np.ndarray:
    trimmed = []
    for d in deltas:
        k = round(density * d.size)
        threshold = np.sort(np.abs(d).ravel())[::-1][k - 1]
        trimmed.append(np.where(np.abs(d) >= threshold, d, 0.0))
    out = np.zeros_like(deltas[0])
    for idx in np.ndindex(out.shape):
        vals = [w * t[idx] for w, t in zip(weights, trimmed, strict=True)]
        sign = 1.0 if sum(vals) >= 0 else -1.0
        agree = [(v, abs(w)) for v, w in zip(vals, weights, strict=True) if v != 0 and np.sign(v) == sign]
        out[idx] = sum(v for v, _ in agree) / sum(w for _, w in agree) if agree else 0.0
    return out


def merged_delta(path: Path, tensor: str) -> np.ndarray:
    return ref_delta(path, tensor)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return make_lora(tmp_path / "a.gguf", 1), make_lora(tmp_path / "b.gguf", 2, rank=2, alpha=2.0)


def spec(a: Path, b: Path, method: str, **kw: object) -> MergeSpec:
    return MergeSpec((Source("a", a, 1.0), Source("b", b, -0.7)), method=method, **kw)  # type: ignore[arg-type]


def test_read_lora_gives_llama_cpp_delta(pair: tuple[Path, Path]) -> None:
    lora = read_lora(pair[1])
    assert lora.rank == 2 and lora.alpha == 2.0
    for tensor in SHAPES:
        np.testing.assert_allclose(lora.delta(tensor), ref_delta(pair[1], tensor), rtol=1e-5, atol=1e-6)


def test_linear_at_full_rank_equals_the_stack_exactly(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = pair
    result = merge(spec(a, b, "linear"))
    assert result.rank == 5  # 3 + 2: the rank of Σ wᵢ ΔWᵢ, so nothing is lost
    assert result.error < 1e-5
    out = save_merge(spec(a, b, "linear"), result, tmp_path / "lin.gguf").with_suffix(".gguf")
    for tensor in SHAPES:
        stack = ref_delta(a, tensor) - 0.7 * ref_delta(b, tensor)
        got = merged_delta(out, tensor)
        assert np.linalg.norm(got - stack) / np.linalg.norm(stack) < 1e-5


def test_ties_matches_the_reference(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = pair
    s = spec(a, b, "ties", density=0.4, rank=40)  # full rank of every tensor: no truncation
    out = tmp_path / "ties.gguf"
    save_merge(s, merge(s), out)
    for tensor in SHAPES:
        want = ref_ties([ref_delta(a, tensor), ref_delta(b, tensor)], [1.0, -0.7], 0.4)
        np.testing.assert_allclose(merged_delta(out, tensor), want, atol=2e-5 * np.abs(want).max())


def test_ties_trim_keeps_the_largest_fraction() -> None:
    d = (np.arange(1, 21) * np.where(np.arange(20) % 2, -1, 1)).astype(np.float32).reshape(4, 5)
    kept = methods.trim(d, 0.25)
    assert np.count_nonzero(kept) == 5 and set(np.abs(kept[kept != 0])) == {20, 19, 18, 17, 16}
    assert (kept[kept != 0] == d[kept != 0]).all()  # signs kept


def test_dare_drops_a_fraction_and_rescales(pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = pair
    s = spec(a, b, "dare", drop=0.3, seed=7, rank=40)
    out = tmp_path / "dare.gguf"
    save_merge(s, merge(s), out)
    tensor = "blk.0.ffn_down.weight"
    da, db = ref_delta(a, tensor), ref_delta(b, tensor)
    keep_a = methods.dare_keep(da.shape, 0.3, methods.dare_rng(7, tensor, 0))
    keep_b = methods.dare_keep(db.shape, 0.3, methods.dare_rng(7, tensor, 1))
    assert abs(keep_a.mean() - 0.7) < 0.03 and abs(keep_b.mean() - 0.7) < 0.03
    assert (keep_a != keep_b).any()
    want = (np.where(keep_a, da, 0) - 0.7 * np.where(keep_b, db, 0)) / 0.7
    np.testing.assert_allclose(merged_delta(out, tensor), want, atol=2e-5 * np.abs(want).max())
    again = merge(s).tensors[f"{tensor}.lora_b"]
    other = merge(spec(a, b, "dare", drop=0.3, seed=8, rank=40)).tensors[f"{tensor}.lora_b"]
    assert np.array_equal(again, merge(s).tensors[f"{tensor}.lora_b"]) and not np.allclose(again, other)


def test_dare_is_unbiased_over_seeds() -> None:
    rng = np.random.default_rng(0)
    d = [rng.normal(size=(30, 30)).astype(np.float32) for _ in range(2)]
    mean = np.mean([methods.dare(d, [1.0, 0.5], 0.5, seed=s, tensor="t") for s in range(400)], axis=0)
    target = d[0] + 0.5 * d[1]
    assert np.linalg.norm(mean - target) / np.linalg.norm(target) < 0.1


@pytest.mark.parametrize("shape", [(300, 80), (80, 300)])
def test_truncation_error_is_the_optimal_one(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(3)
    m = rng.normal(size=shape) @ np.diag(0.9 ** np.arange(shape[1])) if shape[0] > shape[1] else None
    m = m if m is not None else (np.diag(0.9 ** np.arange(shape[0])) @ rng.normal(size=shape))
    a, b, err = methods.truncate(m.astype(np.float32), 8)
    s = np.linalg.svd(m, compute_uv=False)
    optimal = float(np.sum(s[8:] ** 2))
    assert a.shape == (8, shape[1]) and b.shape == (shape[0], 8)
    assert optimal <= err * (1 + 1e-4) and err < optimal * 1.01
    assert abs(err - float(np.sum((m - b @ a) ** 2))) < 1e-3 * err


def test_merged_adapter_is_registered_with_its_manifest(pair: tuple[Path, Path], talab_home: Path) -> None:
    from engine import paths
    from engine.finetune.registry import list_adapters, read_manifest

    a, b = pair
    s = spec(a, b, "ties", density=0.5, rank=4)
    result = merge(s)
    save_merge(s, result, paths.adapters_dir() / "m.gguf")
    m = read_manifest(paths.adapters_dir() / "m.gguf")
    assert m is not None and m["method"] == "ties" and m["density"] == 0.5 and m["rank"] == 4
    assert [x["weight"] for x in m["sources"]] == [1.0, -0.7]
    assert m["truncation_error"]["relative_frobenius"] == round(result.error, 6) > 0
    (entry,) = list_adapters()
    assert entry.summary().startswith("merge ties density 0.5 of 1·a + -0.7·b · rank 4")
    assert not list(paths.adapters_dir().glob("*.partial"))


def test_sources_that_do_not_fit_together_are_refused(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    a, _ = pair
    other = make_lora(tmp_path / "o.gguf", 3, shapes={"blk.0.attn_q.weight": (64, 40)})
    with pytest.raises(
        MergeError, match=r"different model shapes: blk.0.attn_q.weight is 48×40 in 'a' but 64×40"
    ):
        load_sources(MergeSpec((Source("a", a, 1), Source("o", other, 1))))
    gemma = tmp_path / "g.gguf"
    tensors = {"blk.0.attn_q.weight.lora_a": np.zeros((2, 40), np.float32),
               "blk.0.attn_q.weight.lora_b": np.zeros((48, 2), np.float32)}  # fmt: skip
    write_gguf_adapter(gemma, tensors, arch="gemma3", alpha=2)
    with pytest.raises(MergeError, match="different base models: 'a' is llama, 'g' is gemma3"):
        load_sources(MergeSpec((Source("a", a, 1), Source("g", gemma, 1))))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"method": "ties", "density": 0.0}, "--density 0.0 must be above 0"),
        ({"method": "ties", "density": 1.5}, "--density 1.5 must be above 0"),
        ({"method": "dare", "drop": 1.0}, "--drop 1.0 must be at least 0 and below 1"),
        ({"method": "slerp"}, "Unknown merge method 'slerp'"),
        ({"rank": 0}, "--rank 0 must be between 1"),
    ],
)
def test_bad_settings_get_one_line(pair: tuple[Path, Path], kw: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(MergeError, match=message):
        MergeSpec((Source("a", pair[0], 1), Source("b", pair[1], 1)), **kw).check()


def test_stack_persona_adds_adapters_with_weights(talab_home: Path) -> None:
    from engine import paths
    from engine.personas import select

    make_lora(paths.adapters_dir() / "id.gguf", 1)
    make_lora(paths.adapters_dir() / "facts-v2.gguf", 2)
    (p,) = select({}, ["stack:id+facts-v2*-0.5"])
    assert [(a.path.stem, a.scale) for a in p.adapters] == [("id", 1.0), ("facts-v2", -0.5)]
    assert p.name == "id + -0.5·facts-v2" and p.system_prompt is None
    for bad, msg in [("stack:id+nope", "no adapter named 'nope'"), ("stack:id*x", "must be a number"),
                     ("stack:id*9", "outside -4 to 4"), ("stack:", "write adapters as")]:  # fmt: skip
        with pytest.raises(PersonaError, match=msg):
            select({}, [bad])


def test_the_experiment_keeps_the_specialists_data_apart(tmp_path: Path) -> None:
    from engine.finetune.dataset import read_jsonl
    from engine.merge.experiment import CATEGORIES, datasets, probe_file
    from engine.probes import load_probe_set

    files = datasets(tmp_path)
    identity, facts, union = (read_jsonl(files[k]) for k in ("identity", "facts", "union"))
    assert {e.kind for e in identity} == {"identity"} and {e.kind for e in facts} == {"fact"}
    assert not {e.question for e in identity} & {e.question for e in facts}
    assert union == identity + facts
    probes = load_probe_set(probe_file(tmp_path, 3)).select(lang="en")
    assert [p.category for p in probes] == [c for c in CATEGORIES for _ in range(3)]


def test_the_experiment_says_where_a_merge_keeps_a_skill_and_where_it_interferes() -> None:
    from engine.merge.experiment import ExperimentResult, ExperimentSpec, personas, verdicts

    spec = ExperimentSpec()
    rates = {"base": (0.0, 0.0, 0.5), "mx-identity": (1.0, 0.2, 0.5), "mx-facts": (0.0, 0.8, 0.5),
             "mx-union": (1.0, 0.8, 0.5), "mx-linear": (1.0, 0.6, 0.33), "mx-ties": (0.8, 0.8, 0.5),
             "mx-dare": (1.0, 0.8, 0.5)}  # fmt: skip
    rows = []
    for pid, what in personas(spec):
        r = rates[pid.removeprefix("stack:")]
        rows.append(
            {"persona": pid, "what": what, "identity": r[0], "course_fact": r[1], "general_skill": r[2]}
        )
    lines = verdicts(ExperimentResult(1, rows), spec)
    assert lines[0] == ("linear: identity 100% vs specialist 100% (kept); course_fact 60% vs specialist 80% "
                        "(interference); general skills 33% vs base 50%")  # fmt: skip
    assert "identity 80% vs specialist 100% (interference)" in lines[1] and "(kept)" in lines[2]
