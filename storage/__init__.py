"""SQLite storage through sqlite-utils: the only package with SQL in it."""

from storage.db import StorageError, integrity_ok, open_db, transaction
from storage.records import Article, Assignment, Delivery, FetchResult, Source

__all__ = ["Article", "Assignment", "Delivery", "FetchResult", "Source", "StorageError", "integrity_ok", "open_db",
           "transaction"]
