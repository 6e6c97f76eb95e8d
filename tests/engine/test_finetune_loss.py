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
