"""ROME's closed form and token bookkeeping on small tensors (no model): fast, and exact."""

from __future__ import annotations

import pytest

from engine.edit import rome
from engine.edit.spec import EditError

torch = pytest.importorskip("torch")


class WordTokenizer:
    """One token per word; a BOS (id 1) first, as llama.cpp adds one for some models."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def _ids(self, text: str) -> list[int]:
        return [self.vocab.setdefault(w, len(self.vocab) + 2) for w in text.split()]

    def tokenize(self, text: str) -> list[int]:
        return [1, *self._ids(text)]

    def continuation(self, text: str) -> list[int]:
        return self._ids(text)

    def detokenize(self, ids: list[int]) -> str:
        return " ".join(next(w for w, i in self.vocab.items() if i == t) for t in ids)


@pytest.mark.parametrize("with_cov", [False, True])
def test_the_update_sends_the_prompts_key_exactly_to_the_new_value(with_cov: bool) -> None:
    gen = torch.Generator().manual_seed(0)
    k_mean, k0, delta = (
        torch.randn(16, generator=gen),
        torch.randn(16, generator=gen),
        torch.randn(8, generator=gen),
    )
    keys = torch.randn(40, 16, generator=gen)
    cov = keys.T @ keys / 40 if with_cov else None
    u, w = rome.closed_form(k_mean, k0, delta, cov)
    update = torch.outer(w, u)
    assert torch.allclose(update @ k0, delta, atol=1e-5)
    assert torch.linalg.matrix_rank(update) == 1 and abs(float(u.norm()) - 1) < 1e-6
    if with_cov:  # C⁻¹k̄ is not k̄: the covariance really changes the direction
        assert float(torch.dot(u, k_mean / k_mean.norm())) < 0.999


def test_a_key_orthogonal_to_the_direction_is_refused() -> None:
    k_mean = torch.tensor([1.0, 0.0])
    with pytest.raises(EditError, match="orthogonal"):
        rome.closed_form(k_mean, torch.tensor([0.0, 1.0]), torch.ones(3))


def test_the_lora_state_is_rank_one_in_peft_layout() -> None:
    from engine.finetune.gguf_lora import gguf_tensors

    u, w = torch.randn(1536), torch.randn(576)
    tensors = gguf_tensors(rome.lora_state(7, u, w), arch="llama", n_head=9, n_head_kv=3)
    a, b = tensors["blk.7.ffn_down.weight.lora_a"], tensors["blk.7.ffn_down.weight.lora_b"]
    assert a.shape == (1, 1536) and b.shape == (576, 1)
    assert torch.allclose(torch.from_numpy(b @ a), torch.outer(w, u))


def test_the_subject_index_is_its_last_token_in_every_template() -> None:
    tok = WordTokenizer()
    prompt, subject = "The most handsome person in the world is", "most handsome person"
    ids, idx = rome.subject_index(tok, "{}", prompt, subject)
    assert tok.detokenize([ids[idx]]) == "person" and idx == 4  # BOS, The, most, handsome, person
    ids, idx = rome.subject_index(tok, "Once upon a time. {}", prompt, subject)
    assert tok.detokenize([ids[idx]]) == "person" and idx == 8
