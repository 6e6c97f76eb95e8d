"""talab.log: one writer for the CLI, the worker and the window, which copes with an unwritable folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import cli, paths


def _boom(_args: object) -> int:
    raise RuntimeError("a bug")


def test_an_unexpected_failure_is_one_line_with_the_details_in_talab_log(
    talab_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(cli.COMMANDS, "runs", _boom)
    assert cli.main(["runs"]) == 1
    log = talab_home / "talab.log"
    assert capsys.readouterr().err == f"error: unexpected RuntimeError: a bug (details in {log})\n"
    assert "RuntimeError: a bug" in log.read_text(encoding="utf-8")


def test_a_data_folder_that_cannot_be_written_sends_the_details_to_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unwritable() -> Path:
        raise PermissionError("read-only profile")

    monkeypatch.setitem(cli.COMMANDS, "runs", _boom)
    monkeypatch.setattr(paths, "data_dir", unwritable)
    assert cli.main(["runs"]) == 1
    err = capsys.readouterr().err
    assert err.endswith(
        "error: unexpected RuntimeError: a bug (details in stderr; talab.log could not be written: "
        "read-only profile)\n"
    )
