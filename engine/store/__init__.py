"""SQLite store for runs and answers (see :mod:`engine.store.db`)."""

from engine.store.db import SCHEMA_MAJOR, Store, open_store

__all__ = ["SCHEMA_MAJOR", "Store", "open_store"]
