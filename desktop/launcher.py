"""The ``talab`` console script: the engine CLI plus the ``gui`` subcommand.

It lives in desktop/ because only this layer may import Qt; it hands the
engine a ``gui`` handler instead of the engine importing the desktop.
"""

from __future__ import annotations

import argparse
import os
import sys

from engine import cli
from engine.errors import TalabError


def _gui(args: argparse.Namespace) -> int:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    has_screen = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and not has_screen and platform in ("", "xcb", "wayland"):
        # Qt would abort with a platform-plugin message; say what to do instead
        raise TalabError("No display found (DISPLAY is not set): run TA Lab on a desktop session")
    from desktop.app import main as gui_main

    return int(gui_main())


def _gui_self_test() -> int:
    """After the engine's check: can this installation draw the window's charts?"""
    try:
        from desktop.selftest_gui import run

        run()
        return 0
    except Exception as exc:  # a build without Qt's plugins must still end in one readable line
        print(f"self-test failed: the window cannot be drawn: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    cli.COMMANDS["gui"] = _gui
    return cli.main(argv)


def app_main(argv: list[str] | None = None) -> int:
    """The installed app's entry point (``talab-app``): the window unless told otherwise.

    ``--self-test`` checks the installation headless; ``--train-worker`` (``--edit-worker``) is how
    the frozen app runs its own training (editing) subprocess (there is no separate Python
    to run ``-m engine.finetune.train`` with); anything else is the ``talab`` CLI.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    # offline by construction: nothing may reach for a model hub at run time
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if args[:1] == ["--self-test"]:
        from engine.selftest import main as self_test

        code = self_test(args[1:])
        return code if code else _gui_self_test()
    if args[:1] == ["--train-worker"]:
        from engine.finetune.train import main as train_worker

        return train_worker(args[1:])
    if args[:1] == ["--edit-worker"]:
        from engine.edit.worker import main as edit_worker

        return edit_worker(args[1:])
    if args[:1] == ["--fact-worker"]:
        from engine.factexp.worker import main as fact_worker

        return fact_worker(args[1:])
    return main(args or ["gui"])


if __name__ == "__main__":
    sys.exit(main())
