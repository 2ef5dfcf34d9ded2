"""Storage of runs, answers, verdicts and the response cache."""

from laif.store.db import RECORD_SCHEMA_VERSION, CacheRow, ExchangeRow, JudgeRow, RunRow, Store, VerdictRow, default_url

__all__ = ["RECORD_SCHEMA_VERSION", "CacheRow", "ExchangeRow", "JudgeRow", "RunRow", "Store", "VerdictRow", "default_url"]
