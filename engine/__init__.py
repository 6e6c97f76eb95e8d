"""TA Lab engine: everything that runs headless (no Qt)."""

__version__ = "0.1.0"
