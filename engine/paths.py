"""Where TA Lab keeps its data.

Everything the app writes (database, adapters, caches) lives under one
directory so that a classroom machine can be reset by deleting it, and tests
can point it at a temporary directory with ``TALAB_HOME``.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "TALAB_HOME"

#: The folder that holds ``engine``: the repository, the frozen app's folder, or site-packages.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: The bundled data (course KBs, probe sets, personas). A wheel installs it as the ``course_kb``
#: package beside ``engine`` (package data, see pyproject.toml), so this holds in every install.
COURSE_KB_DIR = REPO_ROOT / "course_kb"


def data_dir() -> Path:
    """Return (and create) the data directory, honouring ``TALAB_HOME``."""
    override = os.environ.get(ENV_HOME)
    if override:
        path = Path(override).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("talab", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def db_path() -> Path:
    return data_dir() / "talab.db"


def adapters_dir() -> Path:
    path = data_dir() / "adapters"
    path.mkdir(parents=True, exist_ok=True)
    return path


#: The adapter training writes by default and the fine-tuned personas load (course_kb/personas.yaml).
DEFAULT_ADAPTER = "xiaojin"


def default_adapter_path() -> Path:
    """Where the fine-tuned personas look: training replaces it only when it finishes."""
    return adapters_dir() / f"{DEFAULT_ADAPTER}.gguf"


def cache_dir() -> Path:
    path = data_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path
