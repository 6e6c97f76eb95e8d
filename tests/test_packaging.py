"""The installable app: its entry point, self-test, and the Linux install/uninstall scripts.

The PyInstaller build itself takes minutes and about 1.5 GB, so CI does not build it;
``packaging/smoke_test.sh`` builds it and runs the same self-test on the frozen binary.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.launcher import app_main

REPO = Path(__file__).resolve().parent.parent
LINUX = REPO / "packaging" / "linux"
TALAB_APP = str(Path(sys.executable).with_name("talab-app"))


def test_self_test_answers_per_persona_offline_and_leaves_user_data_alone(talab_home: Path) -> None:
    env = {**os.environ, "TALAB_HOME": str(talab_home)}
    proc = subprocess.run([TALAB_APP, "--self-test", "--max-tokens", "8"], capture_output=True, text=True,
                          timeout=300, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "SmolLM2-135M-Instruct" in out
    assert "persona  base" in out and "persona  prompted" in out
    assert "2 answers stored" in out and "(temporary)" in out
    lines = out.strip().splitlines()
    # the training stack took one LoRA step, after the model's lines and before the summary
    assert lines[-3].startswith("train    torch ") and "transformers " in lines[-3] and "peft " in lines[-3]
    assert "one LoRA step OK" in lines[-3]
    assert lines[-2].startswith("ok: process start to first token")
    # and the window's toolkit, QtCharts included, draws in this installation
    assert lines[-1].startswith("gui ") and "QtCharts draw offscreen" in lines[-1]
    assert not (talab_home / "talab.db").exists()  # the user's database is never written


def test_the_app_refuses_a_database_from_a_newer_version_in_one_line(talab_home: Path) -> None:
    talab_home.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(talab_home / "talab.db")
    db.execute("PRAGMA user_version = 999000")
    db.close()
    proc = subprocess.run([TALAB_APP, "runs"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TALAB_HOME": str(talab_home)})  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "newer" in lines[0] and "Traceback" not in proc.stderr


def test_frozen_app_is_its_own_training_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    from engine.finetune.process import command

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    spec = tmp_path / "spec.json"
    assert command(spec) == [sys.executable, "--train-worker", "--spec", str(spec)]
    # and the app binary answers that command line as the trainer does
    assert app_main(["--train-worker", "--spec", str(spec)]) == 2
    event = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert event["event"] == "error" and "spec.json" in event["message"]


def _fake_build(root: Path, version: str) -> Path:
    app = root / f"build-{version}" / "talab-app"
    app.mkdir(parents=True)
    exe = app / "talab-app"
    exe.write_text(f"#!/bin/sh\necho talab-app {version}\n")
    exe.chmod(0o755)
    (app / "_internal").mkdir()
    return app


def _sh(script: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_") and k != "TALAB_HOME"}
    env["HOME"] = str(home)
    return subprocess.run(["bash", str(LINUX / script), *args], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip


def test_install_upgrade_and_uninstall_keep_the_users_data(tmp_path: Path) -> None:
    home = tmp_path / "home"
    share = home / ".local" / "share"
    proc = _sh("install.sh", home, str(_fake_build(tmp_path, "1")))
    assert proc.returncode == 0, proc.stderr
    launcher = home / ".local" / "bin" / "talab-app"
    assert subprocess.run([str(launcher)], capture_output=True, text=True).stdout == "talab-app 1\n"
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(share / "applications" / "talab-app.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == str(share / "talab-app" / "talab-app")
    assert (
        desktop["Type"] == "Application"
        and desktop["Icon"] == "talab-app"
        and "Education" in desktop["Categories"]
    )
    assert (
        (share / "icons" / "hicolor" / "scalable" / "apps" / "talab-app.svg").read_text().startswith("<svg")
    )

    data = share / "talab"  # what the app writes at run time (platformdirs)
    data.mkdir(parents=True)
    (data / "talab.db").write_bytes(b"the class's runs")
    assert _sh("install.sh", home, str(_fake_build(tmp_path, "2"))).returncode == 0  # an upgrade
    assert subprocess.run([str(launcher)], capture_output=True, text=True).stdout == "talab-app 2\n"
    assert (data / "talab.db").read_bytes() == b"the class's runs"
    assert not (share / "talab-app.old").exists() and not (share / "talab-app.new").exists()

    proc = _sh("uninstall.sh", home)
    assert proc.returncode == 0 and "kept" in proc.stdout
    assert not (share / "talab-app").exists() and not launcher.exists() and not launcher.is_symlink()
    assert not (share / "applications" / "talab-app.desktop").exists()
    assert (data / "talab.db").exists()
    assert _sh("uninstall.sh", home, "--purge").returncode == 0
    assert not data.exists()


def test_the_installer_travels_inside_the_built_app(tmp_path: Path) -> None:
    import shutil

    build = _fake_build(tmp_path, "3")
    shutil.copytree(LINUX, build / "linux")  # what `make package` does
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_") and k != "TALAB_HOME"}
    proc = subprocess.run(["bash", str(build / "linux" / "install.sh")], capture_output=True, text=True,
                          env={**env, "HOME": str(home)}, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(home / ".local" / "bin" / "talab-app")], capture_output=True, text=True)
    assert out.stdout == "talab-app 3\n"


def test_install_without_a_build_says_how_to_make_one(tmp_path: Path) -> None:
    proc = _sh("install.sh", tmp_path, str(tmp_path / "nothing"))
    assert proc.returncode == 2 and "make package" in proc.stderr


def test_a_build_that_cannot_draw_the_window_fails_the_self_test_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    import desktop.launcher
    import desktop.selftest_gui

    def broken() -> None:
        raise ImportError("libQt6Charts.so.6: cannot open shared object file")

    monkeypatch.setattr(desktop.selftest_gui, "run", broken)
    assert desktop.launcher._gui_self_test() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "window cannot be drawn" in err[0] and "libQt6Charts" in err[0]


def test_a_build_that_cannot_fine_tune_fails_the_self_test_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    import engine.selftest

    # the model half is the subprocess test's; here only the training stack is broken
    monkeypatch.setattr(engine.selftest, "_run_in", lambda *_: {"first_token_s": 0.0})
    monkeypatch.setitem(sys.modules, "peft", None)  # what a build that left PEFT out does on import
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # app_main sets them; give them back after
        monkeypatch.setenv(name, "1")
    assert app_main(["--self-test"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "cannot fine-tune" in err[0] and "peft" in err[0], captured.err
    assert "Traceback" not in captured.err
    assert "ok:" not in captured.out and "gui " not in captured.out  # no success line, no GUI check


def test_frozen_app_is_its_own_edit_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from engine.edit.worker import EDIT_JOB
    from engine.finetune.process import command

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    spec = tmp_path / "spec.json"
    assert command(spec, EDIT_JOB) == [sys.executable, "--edit-worker", "--spec", str(spec)]
    assert app_main(["--edit-worker", "--spec", str(spec)]) == 2
    event = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert event["event"] == "error" and "spec.json" in event["message"]


@pytest.mark.integration
def test_a_wheel_in_a_clean_venv_carries_the_course_and_runs_a_probe(
    tmp_path: Path, talab_home: Path
) -> None:
    """`pip install .` gives a working `talab probe`: the KB, personas and probes travel in the wheel.

    No download: the wheel is built without isolation and installed with --no-deps into a venv of
    its own; the shared venv's packages (llama.cpp, the model) are added after it by a .pth line,
    which adds that folder but not its .pth files, so the editable TA Lab there stays out of sight.
    """
    src = tmp_path / "src"
    for name in ("engine", "desktop", "course_kb"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", "--no-input"]
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    dist = tmp_path / "dist"
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, src], **run)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], **run)
    py = venv / "bin" / "python"
    (wheel,) = dist.glob("talab-*.whl")
    subprocess.run([*pip, "--python", py, "install", "--no-deps", "--no-index", wheel], **run)
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], **run)
    shared = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "llama_cpp").is_dir())
    Path(purelib.stdout.strip(), "zz_shared_venv.pth").write_text(shared + "\n", encoding="utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "TALAB_HOME": str(talab_home)}
    env.pop("PYTHONPATH", None)
    where = subprocess.run([py, "-c", "import engine, course_kb; print(engine.__file__)"], cwd=elsewhere,
                           env=env, **run)  # fmt: skip
    assert where.stdout.startswith(str(venv)), where.stdout
    # one short answer from Base: the Lab still loads the KB, renders every persona's prompt from
    # its template and reads the probe set, and Prompted TA's 500-token prompt would triple the time
    talab = [venv / "bin" / "talab", "probe", "--limit", "1", "--personas", "base", "--max-tokens", "8"]
    proc = subprocess.run([*talab, "--json"], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "done" and result["counts"] == {"base": {"identity": 1}}
