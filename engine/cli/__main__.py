"""``python -m engine.cli``: the same as the ``talab`` command without the ``gui`` subcommand."""

import sys

from engine.cli import main

if __name__ == "__main__":  # importing it (the architecture test imports every module) runs nothing
    sys.exit(main())
