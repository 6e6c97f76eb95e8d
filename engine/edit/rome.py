"""ROME (Meng et al. 2022) on a llama-architecture model in torch, written for TA Lab.

The MLP of layer L is treated as a key-value memory: its down projection W maps
the key k = SiLU(gate·x)⊙(up·x) at the subject's last token to a value that the
later layers read the fact from. The edit finds a new value v* that makes the
target likely, then changes W by the rank-one update that sends the subject's
key to v* and, with C = E[kkᵀ], disturbs other keys as little as possible:

    ΔW = (v* − W·k₀) · (C⁻¹k̄)ᵀ / ((C⁻¹k̄)·k₀)

k̄ is the key averaged over short self-generated prefixes (so the edit does not
depend on one exact wording) and k₀ the key in the bare prompt, for which the
update is exact (ΔW·k₀ = v* − W·k₀). As in ROME's own code, C⁻¹k̄ is normalised.

Tokens come from llama.cpp's tokenizer (a :class:`Tokenizer`), so the positions
are those llama.cpp will see when the adapter runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.edit.spec import EditError

#: EasyEdit's seeds for the context prefixes; the model writes the rest itself.
PREFIX_SEEDS = ("The", "Therefore", "Because", "I", "You")
TOP_K = 5  # ROME's generate_fast samples prefixes with top-k 5


class Tokenizer(Protocol):
    def tokenize(self, text: str) -> list[int]: ...  # a prompt: BOS as llama.cpp adds it

    def continuation(self, text: str) -> list[int]: ...  # text that follows a prompt: no BOS

    def detokenize(self, ids: list[int]) -> str: ...


@dataclass
class Value:
    """The optimised value and what it cost."""

    v_init: Any  # W·k₀: the layer's output at the subject in the bare prompt
    delta: Any  # v* − W·k₀
    losses: list[float] = field(default_factory=list)
    target_prob: float = 0.0  # mean probability of the whole target over the prompts, at the end


def _mlp(model: Any, layer: int) -> Any:
    layers = model.model.layers
    if not 0 <= layer < len(layers):
        raise EditError(f"Layer {layer} does not exist: the model has layers 0 to {len(layers) - 1}")
    return layers[layer].mlp


@contextmanager
def hooked(model: Any, layer: int, add: Callable[[Any], Any] | None = None) -> Iterator[list[Any]]:
    """Capture the down projection's input (the keys); ``add`` may rewrite its output."""
    keys: list[Any] = []

    def hook(_module: Any, inputs: tuple[Any, ...], output: Any) -> Any:
        keys.append(inputs[0])
        return add(output) if add is not None else None

    handle = _mlp(model, layer).down_proj.register_forward_hook(hook)
    try:
        yield keys
    finally:
        handle.remove()


def _pad(seqs: list[list[int]]) -> tuple[Any, Any]:
    """Right padding: with causal attention the real positions never see the pad."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [0] * (width - len(s)) for s in seqs])
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs])
    return ids, mask


def sample(model: Any, ids: list[int], n_tokens: int, generator: Any) -> list[int]:
    """Top-k sampling: the model's own text, for prefixes and the covariance corpus.

    Without a KV cache: the sequences are a few dozen tokens, and transformers' cache argument
    is being renamed (a FutureWarning either way).
    """
    import torch

    out: list[int] = []
    with torch.no_grad():
        for _ in range(n_tokens):
            logits = model(input_ids=torch.tensor([ids + out]), use_cache=False).logits
            top = torch.topk(logits[0, -1], TOP_K)
            pick = int(top.indices[torch.multinomial(torch.softmax(top.values, -1), 1, generator=generator)])
            out.append(pick)
    return out


def prefixes(model: Any, tok: Tokenizer, n: int, n_tokens: int, seed: int) -> list[str]:
    """Context templates ``"{prefix}. {}"``, with ``"{}"`` (the bare prompt) first."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = ["{}"]
    for i in range(n):
        word = PREFIX_SEEDS[i % len(PREFIX_SEEDS)]
        text = word + tok.detokenize(sample(model, tok.tokenize(word), n_tokens, gen))
        text = " ".join(text.replace("{", " ").replace("}", " ").split())
        out.append(text + ". {}")
    return out


def subject_index(tok: Tokenizer, template: str, prompt: str, subject: str) -> tuple[list[int], int]:
    """The prompt's tokens in ``template`` and the position of the subject's last token."""
    end = prompt.index(subject) + len(subject)
    ids = tok.tokenize(template.replace("{}", prompt))
    upto = tok.tokenize(template.replace("{}", prompt[:end]))
    if ids[: len(upto)] != upto:  # the subject ends inside a word: the token that holds its end
        upto = upto[:-1] or upto
    return ids, len(upto) - 1


def compute_key(model: Any, tok: Tokenizer, layer: int, prompt: str, subject: str,
                templates: list[str]) -> tuple[Any, Any]:  # fmt: skip
    """(k̄, k₀): the key averaged over the templates, and the key in the bare prompt (templates[0])."""
    import torch

    rows = [subject_index(tok, t, prompt, subject) for t in templates]
    ids, mask = _pad([r[0] for r in rows])
    with torch.no_grad(), hooked(model, layer) as keys:
        model(input_ids=ids, attention_mask=mask, use_cache=False)
    k = torch.stack([keys[0][i, idx] for i, (_, idx) in enumerate(rows)])
    return k.mean(0), k[0]


def compute_value(
    model: Any,
    tok: Tokenizer,
    layer: int,
    request: tuple[str, str, str],
    templates: list[str],
    *,
    steps: int,
    lr: float,
    kl_factor: float,
    weight_decay: float,
    clamp_norm: float,
    on_step: Callable[[int, float], None] | None = None,
) -> Value:
    """Optimise δ added to the layer's output at the subject, so that the target follows the prompt.

    The loss is the target's mean negative log-likelihood over the templates, plus ``kl_factor`` ×
    the KL divergence of the next-token distribution after "{subject} is a" from the unedited one
    (the subject must stay the same kind of thing), plus ``weight_decay`` × ‖δ‖²/‖v‖². δ is clamped
    to ``clamp_norm`` × ‖v‖ after each step.
    """
    import torch

    prompt, subject, target = request
    target_ids = tok.continuation(" " + target.strip())
    if not target_ids:
        raise EditError("The new target has no tokens")
    seqs, lookup, spans = [], [], []
    for t in templates:
        ids, idx = subject_index(tok, t, prompt.rstrip(), subject)
        spans.append(len(ids) - 1)  # the position that predicts the target's first token
        seqs.append(ids + target_ids[:-1])
        lookup.append(idx)
    kl_ids, kl_idx = subject_index(tok, "{}", f"{subject} is a", subject)
    seqs.append(kl_ids)
    lookup.append(kl_idx)
    kl_row, kl_pos = len(seqs) - 1, len(kl_ids) - 1
    ids, mask = _pad(seqs)
    n = len(templates)
    rows = torch.arange(len(seqs))
    cols = torch.tensor(lookup)
    tgt = torch.tensor(target_ids)
    pos = torch.tensor(spans)[:, None] + torch.arange(len(target_ids))[None, :]

    for p in model.parameters():
        p.requires_grad_(False)
    width = model.config.hidden_size
    delta = torch.zeros(width, requires_grad=True)
    optim = torch.optim.Adam([delta], lr=lr)
    state: dict[str, Any] = {}

    def add(output: Any) -> Any:
        if "v_init" not in state:
            state["v_init"] = output[0, lookup[0]].detach().clone()
        plus = torch.zeros_like(output)
        plus[rows, cols] = delta
        return output + plus

    losses: list[float] = []
    kl_init = None
    prob = 0.0
    with hooked(model, layer, add):
        for step in range(steps):
            logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
            logp = torch.log_softmax(logits[:n], -1)
            picked = logp[torch.arange(n)[:, None], pos, tgt[None, :].expand(n, -1)]
            nll = -picked.mean(1).mean()
            prob = float(picked.detach().sum(1).exp().mean())
            kl_logp = torch.log_softmax(logits[kl_row, kl_pos], -1)
            if kl_init is None:
                kl_init = kl_logp.detach().clone()
            kl = torch.nn.functional.kl_div(kl_init, kl_logp, log_target=True, reduction="sum")
            v_norm = state["v_init"].norm()
            loss = nll + kl_factor * kl + weight_decay * delta.norm() ** 2 / v_norm**2
            losses.append(round(float(loss.detach()), 4))
            if on_step is not None:
                on_step(step + 1, losses[-1])
            if float(nll.detach()) < 5e-2:  # ROME's early stop: the target is already near-certain
                break
            optim.zero_grad()
            loss.backward()
            optim.step()
            with torch.no_grad():
                limit = clamp_norm * v_norm
                if delta.norm() > limit:
                    delta.mul_(limit / delta.norm())
    return Value(state["v_init"], delta.detach().clone(), losses, prob)


def self_covariance(model: Any, tok: Tokenizer, layer: int, *, samples: int = 8, n_tokens: int = 64,
                    seed: int = 0) -> Any:  # fmt: skip
    """E[kkᵀ] over keys at every position of text the model writes itself (no corpus ships with it).

    A few hundred keys cannot make a full-rank 1536×1536 estimate, so the caller shrinks it
    towards the identity (:func:`closed_form`).
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    keys = []
    for i in range(samples):
        word = PREFIX_SEEDS[i % len(PREFIX_SEEDS)]
        start = tok.tokenize(word)
        ids = start + sample(model, start, n_tokens, gen)
        with torch.no_grad(), hooked(model, layer) as caught:
            model(input_ids=torch.tensor([ids]), use_cache=False)
        keys.append(caught[0][0])
    k = torch.cat(keys)
    return k.T @ k / k.shape[0]


def closed_form(
    k_mean: Any, k0: Any, delta: Any, cov: Any | None = None, shrink: float = 0.1
) -> tuple[Any, Any]:
    """(u, w): ΔW = w·uᵀ, with u = C⁻¹k̄ normalised and w = δ / (u·k₀), so that ΔW·k₀ = δ exactly."""
    import torch

    u = k_mean
    if cov is not None:
        d = cov.shape[0]
        reg = (1 - shrink) * cov + shrink * torch.trace(cov) / d * torch.eye(d)
        u = torch.linalg.solve(reg, k_mean)
    u = u / u.norm()
    denom = float(torch.dot(u, k0))
    if abs(denom) < 1e-8:
        raise EditError("The subject's key is orthogonal to the update direction; try another layer")
    return u, delta / denom


@contextmanager
def applied(model: Any, layer: int, u: Any, w: Any) -> Iterator[None]:
    """The model with W + w·uᵀ in the layer's down projection (parity checks and the layer sweep)."""
    import torch

    weight = _mlp(model, layer).down_proj.weight
    update = torch.outer(w, u)
    with torch.no_grad():
        weight += update
    try:
        yield
    finally:
        with torch.no_grad():
            weight -= update


def lora_state(layer: int, u: Any, w: Any) -> dict[str, Any]:
    """The update as a rank-1 PEFT state dict: ``lora_A`` = uᵀ (1×n_in), ``lora_B`` = w (n_out×1)."""
    key = f"base_model.model.model.layers.{layer}.mlp.down_proj"
    return {
        f"{key}.lora_A.weight": u.detach().numpy()[None, :].copy(),
        f"{key}.lora_B.weight": w.detach().numpy()[:, None].copy(),
    }
