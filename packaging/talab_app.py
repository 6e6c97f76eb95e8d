"""Entry point of the installed app (PyInstaller builds ``talab-app`` from this file)."""

import multiprocessing
import sys

from desktop.launcher import app_main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # torch may start helper processes from the frozen binary
    sys.exit(app_main())
