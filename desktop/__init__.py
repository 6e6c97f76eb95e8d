"""TA Lab desktop app: thin PySide6 views over the engine."""
