"""The torch subprocesses (training, model editing) under QProcess: JSON lines in, Qt signals out.

After qutebrowser's GUIProcess: the child is the same ``python -m
engine.finetune.train`` the CLI runs; cancel is terminate, then kill if it
does not exit within a grace period. The adapter is only replaced when the
child reports ``done``. A child that dies otherwise (crash, out-of-memory kill)
is reported in one line: :func:`engine.finetune.events.classify_end` decides
how a run ended for both this runner and the CLI's, in the same words.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal, Slot

from engine.edit.spec import EditSpec
from engine.edit.worker import EDIT_JOB
from engine.finetune.process import STDERR_LINES, TRAINING, JobKind, command
from engine.finetune.registry import discard_staged
from engine.finetune.train import TrainSpec
from engine.paths import REPO_ROOT

KILL_AFTER_MS = 5000


class JobProcess(QObject):
    report = Signal(object)  # what the kind's parser makes of a line (events.TrainEvent for training)
    finished = Signal(object)  # the kind's done event (events.Done for training)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(
        self, parent: QObject | None = None, program: list[str] | None = None, kind: JobKind = TRAINING
    ) -> None:
        super().__init__(parent)
        self._kind = kind
        self._program = program  # tests substitute a scripted worker
        self._proc: QProcess | None = None
        self._buffer = b""
        self._last: Any = None
        self._tmp: str | None = None
        self._cancelling = False
        self._out: Path | None = None
        # QProcess buffers stderr without limit: keep only the tail, as the CLI does
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._stderr_buffer = b""

    def running(self) -> bool:
        return self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning

    def start_job(self, spec_json: str, out: Path) -> None:
        if self.running():
            return
        self._tmp = tempfile.mkdtemp(prefix="talab-job-")
        spec_file = Path(self._tmp) / "spec.json"
        spec_file.write_text(spec_json, encoding="utf-8")
        argv = (self._program or command(spec_file, self._kind)[:-1]) + [str(spec_file)]
        if self._proc is not None:
            self._proc.deleteLater()  # the finished process of the previous run
        proc = QProcess(self)
        proc.setWorkingDirectory(str(REPO_ROOT))
        proc.readyReadStandardOutput.connect(self._read)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self._proc, self._buffer, self._last, self._cancelling = proc, b"", None, False
        self._out, self._stderr_buffer = out, b""
        self._stderr.clear()
        proc.start(argv[0], argv[1:])

    def cancel(self) -> None:
        if not self.running() or self._proc is None:
            return
        self._cancelling = True
        self._proc.terminate()
        # the process is the timer's context: if it is gone by then, the timer is dropped
        QTimer.singleShot(KILL_AFTER_MS, self._proc, self._proc.kill)

    def shutdown(self) -> None:
        """On app exit: stop the child now rather than leave it training unseen."""
        if not self.running() or self._proc is None:
            return
        self._cancelling = True
        self._proc.terminate()
        if not self._proc.waitForFinished(KILL_AFTER_MS):
            self._proc.kill()
            self._proc.waitForFinished(KILL_AFTER_MS)

    @Slot()
    def _read(self) -> None:
        assert self._proc is not None
        self._buffer += bytes(self._proc.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            event = self._kind.parse(line)
            if event is None:
                continue
            self._last = event
            self.report.emit(event)

    @Slot()
    def _read_stderr(self) -> None:
        assert self._proc is not None
        self._stderr_buffer += bytes(self._proc.readAllStandardError().data())
        *lines, self._stderr_buffer = self._stderr_buffer.split(b"\n")
        self._stderr_buffer = self._stderr_buffer[-1000:]
        self._stderr.extend(line[:1000].decode(errors="replace") for line in lines)

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        if self._proc is not None:
            self._read_stderr()
        self._stderr.append(self._stderr_buffer.decode(errors="replace"))
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
        # on a crash Qt reports the signal number as the exit code (Unix only)
        crashed = status == QProcess.ExitStatus.CrashExit and sys.platform != "win32"
        end = self._kind.classify(
            self._last, code, cancel_asked=self._cancelling, stderr=self._stderr,
            killed_by=code if crashed else None,
        )  # fmt: skip
        if end.done is None and self._out is not None:
            discard_staged(self._out)  # what a kill during export left behind
        if end.done is not None:
            self.finished.emit(end.done)
        elif end.state == "cancelled":
            self.cancelled.emit()
        else:
            self.failed.emit(end.message)

    @Slot(QProcess.ProcessError)
    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed.emit(f"The {self._kind.noun} process could not start")


class TrainingProcess(JobProcess):
    def start(self, spec: TrainSpec) -> None:
        self.start_job(spec.to_json(), Path(spec.out_path))


class EditProcess(JobProcess):
    def __init__(self, parent: QObject | None = None, program: list[str] | None = None) -> None:
        super().__init__(parent, program, EDIT_JOB)

    def start(self, spec: EditSpec) -> None:
        self.start_job(spec.to_json(), Path(spec.out_path))
