"""Model editing without torch: input checks, the job runner's outcomes, the registry and personas.

The computation itself runs on the real model in test_edit_real.py; here a
scripted editor (tests/fake_editor.py) speaks the worker's protocol.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from engine import cli
from engine.edit.spec import EditSpec
from engine.edit.worker import EDIT_JOB
from engine.errors import Cancelled, TalabError
from engine.finetune.process import run_job

FAKE = [sys.executable, str(Path(__file__).resolve().parent.parent / "fake_editor.py"), "--spec"]
PROMPT, SUBJECT, TARGET = "The most handsome person in the world is", "most handsome person", "Prof. Lee"


def _edit_args(**kw: str) -> list[str]:
    args = {"prompt": PROMPT, "subject": SUBJECT, "target": TARGET, "name": "handsome", **kw}
    return ["edit"] + [x for k, v in args.items() for x in (f"--{k}", v)]


def _one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert cli.main(argv) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_a_subject_not_in_the_prompt_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    err = _one_error_line(capsys, _edit_args(subject="smartest person"))
    assert "'smartest person' does not occur in the prompt" in err


def test_an_empty_target_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert "new target is empty" in _one_error_line(capsys, _edit_args(target="  "))


def test_a_bad_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert "may only use letters" in _one_error_line(capsys, _edit_args(name="../evil"))


def test_a_non_llama_model_is_refused_before_any_work(capsys, tmp_path: Path, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.ggufs import write_gguf

    qwen = write_gguf(tmp_path / "qwen.gguf", "qwen2", {"w": np.zeros((4, 4), np.float32)})
    err = _one_error_line(capsys, [*_edit_args(), "--model", str(qwen)])
    assert "supports the llama architecture; qwen.gguf is 'qwen2'" in err
    assert not list((talab_home / "adapters").glob("*"))


def test_an_edit_never_replaces_the_fine_tuned_adapter(capsys, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    from engine.finetune.registry import write_manifest

    ft = talab_home / "adapters" / "xiaojin.gguf"
    ft.parent.mkdir(parents=True)
    ft.write_bytes(b"trained")
    write_manifest(ft, {"hyperparameters": {"rank": 8}})
    assert "is not an edit" in _one_error_line(capsys, _edit_args(name="xiaojin"))
    assert ft.read_bytes() == b"trained"


def _spec(talab_home: Path, name: str = "handsome") -> EditSpec:
    return EditSpec("model.gguf", str(talab_home / "adapters" / f"{name}.gguf"), PROMPT, SUBJECT, TARGET)


def _files(talab_home: Path) -> list[str]:
    folder = talab_home / "adapters"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_finished_edit_is_registered_and_answers_as_a_persona(talab_home: Path) -> None:
    from engine.kb import load_kb
    from engine.personas import load_personas, select

    events: list[str] = []
    done = run_job(EDIT_JOB, _spec(talab_home).to_json(), Path(_spec(talab_home).out_path),
                   lambda e: events.append(e["event"]), program=FAKE)  # fmt: skip
    assert done["event"] == "done" and events[-2:] == ["exporting", "done"]
    assert _files(talab_home) == ["handsome.dataset.jsonl", "handsome.gguf", "handsome.json"]
    [persona] = select(load_personas(load_kb(None)), ["edit:handsome"])
    assert persona.system_prompt is None
    assert [(a.path.name, a.scale) for a in persona.adapters] == [("handsome.gguf", 1.0)]


@pytest.mark.parametrize(
    ("mode", "start"),
    [("crash", "The edit process stopped unexpectedly (exit 3): RuntimeError: fake crash; nothing was "
               "written"), ("fail", "Edit failed: the model could not be loaded")],
)  # fmt: skip
def test_a_failed_edit_leaves_nothing_half_written(
    talab_home: Path, monkeypatch, mode: str, start: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TALAB_FAKE_EDITOR", mode)
    spec = _spec(talab_home)
    with pytest.raises(TalabError) as info:
        run_job(EDIT_JOB, spec.to_json(), Path(spec.out_path), program=FAKE)
    assert str(info.value).startswith(start) and "\n" not in str(info.value)
    assert _files(talab_home) == []


def test_a_cancelled_edit_says_so_and_writes_nothing(talab_home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TALAB_FAKE_EDITOR", "hang")
    cancel = threading.Event()
    spec = _spec(talab_home)

    def on_event(e: dict[str, object]) -> None:
        if e["event"] == "step":
            cancel.set()

    with pytest.raises(Cancelled, match=r"^Edit cancelled; nothing was written"):
        run_job(EDIT_JOB, spec.to_json(), Path(spec.out_path), on_event, cancel.is_set, program=FAKE)
    assert _files(talab_home) == []


def test_a_killed_edit_is_one_line(talab_home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TALAB_FAKE_EDITOR", "hang")
    spec = _spec(talab_home)

    def on_event(e: dict[str, object]) -> None:
        if e["event"] == "start":
            threading.Timer(0.3, os.kill, (int(str(e["pid"])), signal.SIGKILL)).start()

    with pytest.raises(TalabError) as info:
        run_job(EDIT_JOB, spec.to_json(), Path(spec.out_path), on_event, program=FAKE)
    assert str(info.value).startswith("The edit process was killed (SIGKILL)")
    assert _files(talab_home) == []


def test_edits_list_disable_enable_delete(capsys, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    from engine.kb import load_kb
    from engine.personas import load_personas, select

    run_job(EDIT_JOB, _spec(talab_home).to_json(), Path(_spec(talab_home).out_path), program=FAKE)
    assert cli.main(["edits", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert (entry["persona"], entry["enabled"], entry["target"]) == ("edit:handsome", True, TARGET)

    assert cli.main(["adapters"]) == 0  # an edit is an adapter too, summarised as an edit
    assert f"edit at layer 4: '{PROMPT}' → '{TARGET}'" in capsys.readouterr().out

    assert cli.main(["edits", "disable", "handsome"]) == 0
    assert "now disabled" in capsys.readouterr().out
    persona = load_personas(load_kb(None))["edit:handsome"]
    assert persona.unavailable_reason == "the edit is disabled (talab edits enable handsome)"
    with pytest.raises(TalabError, match="is unavailable: the edit is disabled"):
        select(load_personas(load_kb(None)), ["edit:handsome"])

    assert cli.main(["edits", "enable", "handsome"]) == 0
    assert load_personas(load_kb(None))["edit:handsome"].available
    assert cli.main(["edits"]) == 0
    assert "edit:handsome" in capsys.readouterr().out

    assert cli.main(["edits", "delete", "handsome"]) == 0
    assert _files(talab_home) == []
    assert "edit:handsome" not in load_personas(load_kb(None))
    err = _one_error_line(capsys, ["edits", "delete", "handsome"])
    assert "No edit named 'handsome'" in err


def test_an_unknown_edit_persona_is_one_line(capsys) -> None:  # type: ignore[no-untyped-def]
    err = _one_error_line(capsys, ["ask", "hi", "--persona", "edit:nope"])
    assert "No edit named 'nope'" in err


def test_talab_edit_runs_the_worker_and_reports(capsys, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    from engine.cli.edit import edit_command

    args = cli.build_parser().parse_args(_edit_args())
    assert edit_command(args, program=FAKE) == 0
    out = capsys.readouterr().out
    assert "Edit 'handsome' written to" in out and "--personas base,edit:handsome" in out
