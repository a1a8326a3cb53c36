"""The MongoDB adapters map the typed config to the stored document shape and back, unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from headwater.config import SourceConfig, config_hash, dump_source_config, load_source_config_file
from headwater.contracts.messages import TimeWindow
from planner.adapters.mongo_retries import retry_document, retry_from_document
from planner.adapters.mongo_sources import source_document, source_from_document
from planner.domain.retries import WindowRetry, WindowState
from planner.domain.sources import StoredSource

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "config" / "source-configs").glob("*.yaml"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_stored_source_keeps_its_document_shape_and_reads_back_equal(path: Path) -> None:
    config = load_source_config_file(path)
    source = StoredSource(config.source_id, config, 2, config_hash(config), T0, T0)

    doc = source_document(source)
    back = source_from_document({"_id": source.source_id, **doc})

    assert set(doc) == {"source_id", "config", "version", "config_hash", "created_at", "updated_at"}
    assert doc["config"] == dump_source_config(config)  # the normalised JSON form, as before
    assert back == source and config_hash(back.config) == source.config_hash
    assert source_document(back) == doc


def test_naive_stored_times_read_back_as_utc() -> None:
    config = SourceConfig.model_validate(
        {"source_id": "s", "ingestion": {"schedule": "@hourly", "request": {"base_url": "https://x.example/a"}}}
    )
    doc = {**source_document(StoredSource("s", config, 1, "h", T0, T0)), "created_at": T0.replace(tzinfo=None)}
    assert source_from_document(doc).created_at == T0


def test_a_failed_window_keeps_its_document_shape_and_reads_back_equal() -> None:
    window = TimeWindow.model_validate({"from": T0, "to": T0 + timedelta(hours=1)})
    retry = WindowRetry("s:w", "s", window, WindowState.FAILING, 2, "r2", "HTTP 500", T0, T0, T0, 3, T0, "r2")

    doc = retry_document(retry)
    naive = {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in doc.items()}  # as MongoDB returns

    assert set(doc) == {
        "task_id", "source_id", "window", "state", "attempt", "run_id", "last_error", "next_attempt_at",
        "first_failed_at", "updated_at", "revision", "last_failed_at", "last_failed_run",
    }  # fmt: skip
    assert doc["window"] == {"from": T0, "to": T0 + timedelta(hours=1)} and doc["state"] == "failing"
    assert retry_from_document({"_id": "s:w", **naive}) == retry
