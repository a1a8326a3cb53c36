"""worker.domain.streams: stream keys, occurrence ids and the verdict on each arrival."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from worker.domain.streams import StreamHead, claimed_head, head_id, judge, occurrence_id, stream_key

T0 = datetime(2026, 2, 1, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
HEAD = StreamHead("s:page-1", "s", "page-1", "hA", T0, "s:hA:x.1", 1, "processed", T0)


def test_streams_are_the_request_not_the_delivery() -> None:
    assert stream_key("s", "s:upload-0123", "upload/a.csv", {"uploaded": True}) == "upload"
    assert stream_key("s", "s:upload-0123", "upload/b.csv", {}) == "upload"  # any file name
    assert stream_key("s", "s:tick-20260201T000000", "page-2", {"page": 2}) == "page-2"
    assert stream_key("s", "s:manual-x", "page-2", {}) == "page-2"  # the same request each run
    window = "s:2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00"
    assert stream_key("s", window, "region=n/page-1", {}) == (
        "2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00|region=n/page-1"
    )
    assert head_id("s", "upload") == "s:upload"


def test_occurrences_differ_per_stream_and_per_time() -> None:
    ids = {occurrence_id("s", "h", stream, n) for stream in ("upload", "page-1") for n in (1, 2)}
    assert len(ids) == 4 and all(i.startswith("s:h:") for i in ids)


@pytest.mark.parametrize(
    ("head", "digest", "fetched", "verdict"),
    [
        (None, "hA", T0, "new"),
        (HEAD, "hA", LATER, "duplicate"),  # the same bytes again: a redelivery or an unchanged page
        (HEAD, "hA", T0 - timedelta(days=1), "duplicate"),
        (HEAD, "hB", LATER, "new"),
        (HEAD, "hB", T0, "new"),
        (HEAD, "hB", T0 - timedelta(seconds=1), "superseded"),  # fetched before the latest: late
        (replace(HEAD, status="processing", claimed_at=LATER), "hA", LATER, "busy"),
        (replace(HEAD, status="processing", claimed_at=LATER), "hB", LATER, "busy"),
        (replace(HEAD, status="processing", claimed_at=LATER), "hB", T0 - timedelta(seconds=1), "superseded"),
        (replace(HEAD, status="processing", claimed_at=T0 - timedelta(hours=1)), "hA", LATER, "takeover"),
        (replace(HEAD, status="processing", claimed_at=T0 - timedelta(hours=1)), "hB", LATER, "new"),
        (replace(HEAD, status="failed"), "hA", T0, "takeover"),  # replayed from the dead letters
        (replace(HEAD, status="rolled_back"), "hA", T0, "duplicate"),  # the rolled-back message again
        (replace(HEAD, status="rolled_back"), "hA", LATER, "new"),  # sent again after the rollback
    ],
)
def test_verdicts(head: StreamHead | None, digest: str, fetched: datetime, verdict: str) -> None:
    assert judge(head, digest, fetched, LATER + timedelta(seconds=1), 300) == verdict


def test_a_claim_moves_the_head_on_and_a_takeover_keeps_its_occurrence() -> None:
    args = {"source_id": "s", "stream": "page-1", "task_id": "s:t2", "document_key": "page-1", "now": LATER}
    new = claimed_head(HEAD, "new", content_hash="hB", fetched_at=LATER, **args)  # type: ignore[arg-type]
    assert (new.seq, new.rev, new.status, new.content_hash) == (2, 2, "processing", "hB")
    assert new.occurrence == occurrence_id("s", "hB", "page-1", 2)
    failed = replace(HEAD, status="failed")
    again = claimed_head(failed, "takeover", content_hash="hA", fetched_at=LATER, **args)  # type: ignore[arg-type]
    assert (again.occurrence, again.seq, again.rev, again.status) == (HEAD.occurrence, 1, 2, "processing")
    with pytest.raises(ValueError, match="no claim for a 'duplicate' arrival"):
        claimed_head(HEAD, "duplicate", content_hash="hA", fetched_at=LATER, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("head", "digest", "fetched", "verdict"),
    [
        (HEAD, "hA", T0, "new"),  # the head's bytes reprocessed on purpose
        (replace(HEAD, run_id="reprocess-1"), "hA", T0, "duplicate"),  # the same rerun delivered again
        (replace(HEAD, run_id="reprocess-1", status="rolled_back"), "hA", T0, "duplicate"),
        (replace(HEAD, status="rolled_back"), "hA", T0, "new"),
        (replace(HEAD, status="failed"), "hA", T0, "takeover"),  # a failed occurrence is taken over
        (replace(HEAD, status="processing", claimed_at=LATER), "hA", T0, "busy"),
        (HEAD, "hB", T0 - timedelta(seconds=1), "superseded"),  # the stream moved on: not applied
        (None, "hA", T0, "new"),
    ],
)
def test_verdicts_on_a_rerun(head: StreamHead | None, digest: str, fetched: datetime, verdict: str) -> None:
    assert judge(head, digest, fetched, LATER + timedelta(seconds=1), 300, rerun="reprocess-1") == verdict


def test_a_rerun_claim_remembers_its_run_and_never_moves_freshness_back() -> None:
    args = {"source_id": "s", "stream": "page-1", "task_id": "s:t1", "document_key": "page-1", "now": LATER}
    head = replace(HEAD, fetched_at=LATER)
    rerun = claimed_head(head, "new", content_hash="hA", fetched_at=T0, run_id="reprocess-1", **args)  # type: ignore[arg-type]
    assert (rerun.seq, rerun.run_id, rerun.fetched_at, rerun.occurrence) == (
        2,
        "reprocess-1",
        LATER,
        occurrence_id("s", "hA", "page-1", 2),
    )
