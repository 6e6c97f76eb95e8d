"""What one edit asks for, checked before a model is loaded.

The defaults are EasyEdit's ROME settings for Llama (Adam at lr 0.5, KL factor
0.0625, weight decay 1e-3, clamp at 4× the original value's norm, identity
covariance), scaled down where a 135M model on two cores needs it: 5 prefixes
of 10 tokens instead of 20, and 20 steps instead of 25 (the loss has stopped
falling by then; see bench/bench_edit.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from engine.errors import TalabError

#: Architectures whose MLP is SiLU(gate·x)⊙(up·x) → down, with the HF module names the editor hooks.
SUPPORTED = ("llama",)
#: An early-middle MLP layer of SmolLM2-135M's 30, where ROME and EasyEdit edit (EasyEdit: layer 5 of
#: Llama-7B's 32). bench/sweep_edit_layers.py compares layers on the lecture's edit; it measured
#: layer 2 (efficacy 0.099, paraphrase 0.231, neighbours 0.0) before the shared machine's queue
#: stopped it, so 4 is not yet the sweep's pick.
DEFAULT_LAYER = 4
COVARIANCES = ("identity", "self")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class EditError(TalabError):
    """An edit request that cannot be computed (bad input or an unsupported model)."""


@dataclass
class EditSpec:
    model_path: str
    out_path: str
    prompt: str
    subject: str
    target: str
    layer: int | None = None  # None: DEFAULT_LAYER, or the middle third's start for other depths
    layer_source: str = "default"
    prefixes: int = 5
    prefix_tokens: int = 10
    steps: int = 20
    lr: float = 0.5
    kl_factor: float = 0.0625
    weight_decay: float = 1e-3
    clamp_norm: float = 4.0
    covariance: str = "identity"
    seed: int = 42

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> EditSpec:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def name(self) -> str:
        return Path(self.out_path).stem

    def check(self) -> None:
        """One line per mistake, before a minute of model loading is spent on it."""
        check_name(self.name)
        if not self.prompt.strip():
            raise EditError("The prompt is empty")
        if not self.subject.strip():
            raise EditError("The subject is empty")
        if not self.target.strip():
            raise EditError("The new target is empty: say what the prompt should now be completed with")
        if self.subject not in self.prompt:
            raise EditError(f"The subject '{self.subject}' does not occur in the prompt '{self.prompt}'")
        if self.covariance not in COVARIANCES:
            raise EditError(f"Covariance must be one of {', '.join(COVARIANCES)}, got '{self.covariance}'")
        if self.steps < 1 or self.prefixes < 0 or self.prefix_tokens < 1:
            raise EditError("steps and prefix tokens must be at least 1, prefixes at least 0")
        if not self.lr > 0:
            raise EditError("The learning rate must be above 0")
        if self.layer is not None and self.layer < 0:
            raise EditError(f"Layer {self.layer} does not exist")


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise EditError(f"Edit name '{name}' may only use letters, digits, - and _")


def check_architecture(arch: str, file_name: str) -> None:
    if arch not in SUPPORTED:
        raise EditError(
            f"Model editing supports the {', '.join(SUPPORTED)} architecture; {file_name} is '{arch}'"
        )
