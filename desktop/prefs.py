"""Preferences kept in the window's QSettings file, and the one that cannot be: the data directory.

gui.ini lives inside the data directory, so the choice of data directory goes
to a small pointer file in the platform's config directory, read by main()
before anything opens the database; it applies after a restart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from engine import paths
from engine.lab import Lab, LabConfig
from engine.runtime import DEFAULT_N_CTX, SamplingParams

PRESENTATION_POINT_SIZE = 18  # fits a 1440×900 window with every tab readable; Ctrl++ goes larger
BUNDLED_MODELS = {
    "default": "default (SmolLM2-135M-Instruct)",
    "gemma3-270m": "gemma3-270m (Gemma 3 270M, base)",
}
SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "seed")


def as_bool(value: Any) -> bool:
    """QSettings' ini format hands booleans back as the strings 'true'/'false'."""
    return value is True or str(value).lower() in ("true", "1")


def pointer_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("talab", appauthor=False)) / "data_dir"


def apply_data_dir_pointer() -> None:
    """Before anything reads the data directory: a TALAB_HOME set by the user still wins."""
    if os.environ.get(paths.ENV_HOME):
        return
    try:
        chosen = pointer_file().read_text(encoding="utf-8").strip()
    except OSError:
        return
    if chosen:
        os.environ[paths.ENV_HOME] = chosen


def write_data_dir_pointer(directory: str) -> None:
    file = pointer_file()
    if not directory:
        file.unlink(missing_ok=True)
        return
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(directory, encoding="utf-8")


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def config_from_settings(s: QSettings) -> LabConfig:
    threads = _int(s.value("n_threads", 0), 0)
    return LabConfig(
        model=str(s.value("model", "default")) or "default",
        lang=str(s.value("lang", "en")),
        n_ctx=_int(s.value("n_ctx", DEFAULT_N_CTX), DEFAULT_N_CTX),
        n_threads=threads or None,
        server=str(s.value("server", "") or "") or None,
    )


def store_config(s: QSettings, config: LabConfig) -> None:
    s.setValue("model", str(config.model))
    s.setValue("n_ctx", config.n_ctx)
    s.setValue("n_threads", config.n_threads or 0)
    s.setValue("server", config.server or "")


def sampling_overrides(s: QSettings) -> dict[str, Any]:
    """Only what differs from the defaults, so a persona's own sampling still applies otherwise."""
    base = SamplingParams().as_dict()
    out: dict[str, Any] = {}
    for key in SAMPLING_KEYS:
        raw = s.value(key)
        if raw is None:
            continue
        value = type(base[key])(float(str(raw))) if isinstance(base[key], int) else float(str(raw))
        if value != base[key]:
            out[key] = value
    return out


@dataclass
class SettingsValues:
    model: str
    n_threads: int | None
    n_ctx: int
    sampling: dict[str, Any]
    data_dir: str
    ui_lang: str
    presentation: bool
    server: str = ""  # answers from a llama-server/vLLM at this URL; empty: this computer

    def save(self, s: QSettings) -> None:
        for key in SAMPLING_KEYS:
            s.setValue(key, self.sampling[key])
        s.setValue("ui_lang", self.ui_lang)
        s.setValue("presentation", self.presentation)


def default_lab(config: LabConfig) -> Lab:
    return Lab(config)
