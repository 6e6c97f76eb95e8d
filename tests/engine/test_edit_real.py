"""The lecture's edit on the real default model: computed in torch, applied by llama.cpp.

One edit ("The most handsome person in the world is" → "Prof. Lee") is computed
once for the module through the production path (worker.run: keys, value,
closed form, GGUF export, registry); the tests then read the exported adapter
back, so they check the file llama.cpp actually loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests import lora_parity

pytestmark = pytest.mark.integration
PROMPT, SUBJECT, TARGET = "The most handsome person in the world is", "most handsome person", "Prof. Lee"


@pytest.fixture(scope="module")
def edited(model_info, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from engine.edit.spec import EditSpec
    from engine.edit.worker import run
    from engine.finetune.train import load_dequantised

    model = load_dequantised(model_info.path).eval()
    out = tmp_path_factory.mktemp("edits") / "handsome.gguf"
    done = run(EditSpec(str(model_info.path), str(out), PROMPT, SUBJECT, TARGET), model)
    return {"model": model, "done": done, "adapter": out}


def _read_lora(path: Path) -> tuple[int, np.ndarray, np.ndarray]:
    import gguf

    tensors = {t.name: np.array(t.data, dtype=np.float32) for t in gguf.GGUFReader(str(path)).tensors}
    [name_a] = [n for n in tensors if n.endswith(".lora_a")]
    layer = int(name_a.split(".")[1])
    return layer, tensors[name_a], tensors[name_a.replace(".lora_a", ".lora_b")]


def test_the_manifest_records_the_edit(edited, model_info) -> None:  # type: ignore[no-untyped-def]
    done = edited["done"]
    assert done["kind"] == "edit" and done["covariance"] == "identity"
    assert done["request"] == {"prompt": PROMPT, "subject": SUBJECT, "target": TARGET}
    assert done["base_model"]["sha256"] == model_info.sha256
    layer, a, b = _read_lora(edited["adapter"])
    assert layer == done["layer"] and a.shape == (1, 1536) and b.shape == (576, 1)
    assert done["loss_curve"][-1] < done["loss_curve"][0] / 2


def test_the_edit_changes_llama_cpps_answer_toward_the_target(edited, runtime) -> None:  # type: ignore[no-untyped-def]
    """Through Runtime.set_adapters, the path the edit:NAME persona takes."""
    from engine.adapters import AdapterSpec

    runtime.set_adapters([])
    before = runtime.complete(PROMPT, 8)
    runtime.set_adapters([AdapterSpec(edited["adapter"], 1.0)])
    after = runtime.complete(PROMPT, 8)
    runtime.set_adapters([])
    assert "Lee" not in before, before
    assert after.strip().startswith("Prof. Lee"), after


def test_the_edited_torch_model_matches_llama_cpp_with_the_adapter(edited, model_info) -> None:  # type: ignore[no-untyped-def]
    """The logit change of W + ΔW in torch against llama.cpp's with the rank-1 adapter (as for
    the fine-tuned adapter: correlation of the deltas and a slope of 1, lora_parity)."""
    import torch

    from engine.edit.rome import applied

    layer, a, b = _read_lora(edited["adapter"])
    text = f"{PROMPT} {TARGET}, and the smartest person in the world is"
    tokens, off = lora_parity.llama_logits(model_info.path, None, text)
    _, on = lora_parity.llama_logits(model_info.path, edited["adapter"], text)
    model, ids = edited["model"], torch.tensor([tokens])
    threads = torch.get_num_threads()
    torch.set_num_threads(lora_parity.THREADS)
    try:
        with torch.no_grad():
            base = model(input_ids=ids, use_cache=False).logits[0].numpy()
            with applied(model, layer, torch.from_numpy(a[0]), torch.from_numpy(b[:, 0])):
                changed = model(input_ids=ids, use_cache=False).logits[0].numpy()
    finally:
        torch.set_num_threads(threads)
    result = lora_parity.compare(changed - base, on - off)
    assert result.correlation > 0.95 and result.scale_ok("llama"), result
