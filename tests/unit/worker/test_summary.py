"""worker.domain.summary: storage figures per source."""

from __future__ import annotations

from worker.domain.summary import DocumentTally, summarize


def test_figures_per_source_from_tallies_and_counts() -> None:
    tallies = [
        DocumentTally("prices", "processed", 3, 2),
        DocumentTally("prices", "failed", 1, 0),
        DocumentTally("orders", "processed", 1, 0),
    ]
    assert summarize(tallies, {"prices": 10, "orders": 4}, {"prices": 2, "weather": 1}) == {
        "prices": {"stored": 3, "failed": 1, "duplicates": 2, "records": 10, "rows_rejected": 2},
        "orders": {"stored": 1, "failed": 0, "duplicates": 0, "records": 4, "rows_rejected": 0},
        "weather": {"stored": 0, "failed": 0, "duplicates": 0, "records": 0, "rows_rejected": 1},
    }


def test_a_document_under_way_shows_under_its_status() -> None:
    figures = summarize([DocumentTally("prices", "processing", 1, 0)], {}, {})
    assert figures == {
        "prices": {"stored": 0, "failed": 0, "duplicates": 0, "records": 0, "rows_rejected": 0, "processing": 1}
    }
