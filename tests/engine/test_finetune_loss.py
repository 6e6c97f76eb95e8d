"""The trainer's answer-only loss is the model's own loss, without projecting ignored positions."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def test_answer_loss_matches_the_models_loss_and_gradients() -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from engine.finetune.encode import IGNORE
    from engine.finetune.train import answer_loss

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)  # fmt: skip
    model = get_peft_model(LlamaForCausalLM(config), LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    for name, p in model.named_parameters():  # LoRA B starts at zero: make the adapter matter
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.1)
    ids = torch.randint(0, 97, (3, 12))
    mask = torch.ones_like(ids)
    mask[2, 9:] = 0  # a padded row, as _collate pads
    labels = ids.clone()
    labels[:, :5] = IGNORE  # the prompt: no loss
    labels[2, 9:] = IGNORE

    def loss_and_grads(fn):  # type: ignore[no-untyped-def]
        model.zero_grad()
        loss = fn()
        loss.backward()
        grads = [p.grad.clone() for p in model.parameters() if p.requires_grad]
        return loss.item(), grads

    want, want_grads = loss_and_grads(lambda: model(input_ids=ids, attention_mask=mask, labels=labels).loss)
    got, got_grads = loss_and_grads(lambda: answer_loss(model, ids, mask, labels))
    assert got == pytest.approx(want, rel=1e-6)
    assert len(got_grads) == len(want_grads) > 0
    for g, w in zip(got_grads, want_grads, strict=True):
        assert torch.allclose(g, w, rtol=1e-4, atol=1e-7)


def test_a_batch_accumulated_in_slices_gives_the_whole_batchs_loss_and_gradient() -> None:
    """Slices of a few sequences hold less memory; the update must not change."""
    import contextlib

    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from engine.finetune.encode import IGNORE, Encoded
    from engine.finetune.train import _collate, answer_loss, backward_batch

    torch.manual_seed(1)
    config = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2)  # fmt: skip
    model = get_peft_model(LlamaForCausalLM(config), LoraConfig(r=4, target_modules=["q_proj", "down_proj"]))
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.1)
    gen = torch.Generator().manual_seed(2)
    batch = []
    for length, prompt in [(9, 4), (14, 6), (6, 3), (11, 8), (13, 5)]:  # uneven answers and widths
        ids = torch.randint(0, 97, (length,), generator=gen).tolist()
        batch.append(Encoded(ids, [IGNORE] * prompt + ids[prompt:]))

    def grads() -> list[torch.Tensor]:
        out = [p.grad.clone() for p in model.parameters() if p.requires_grad]
        model.zero_grad()
        return out

    ids, mask, labels = _collate(batch)
    whole = answer_loss(model, ids, mask, labels)
    whole.backward()
    want = grads()
    got_loss, tokens = backward_batch(model, batch, "cpu", contextlib.nullcontext(), micro_batch=2)
    got = grads()
    assert got_loss == pytest.approx(whole.item(), rel=1e-6)
    assert tokens == int(mask.sum())
    for g, w in zip(got, want, strict=True):
        assert torch.allclose(g, w, rtol=1e-4, atol=1e-7)
