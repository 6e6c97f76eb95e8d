"""The ``talab`` console script: the engine CLI plus the ``gui`` subcommand.

It lives in desktop/ because only this layer may import Qt; it hands the
engine a ``gui`` handler instead of the engine importing the desktop.
"""

from __future__ import annotations

import argparse
import sys

from engine import cli


def _gui(args: argparse.Namespace) -> int:
    from desktop.app import main as gui_main

    return int(gui_main())


def main(argv: list[str] | None = None) -> int:
    cli.COMMANDS["gui"] = _gui
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
