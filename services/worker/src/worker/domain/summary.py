"""Storage figures per source: documents stored / duplicate / failed, records, rejected rows."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DocumentTally", "SourceFigures", "summarize"]

SourceFigures = dict[str, int]
FIGURES = ("stored", "failed", "duplicates", "records", "rows_rejected")


@dataclass(frozen=True)
class DocumentTally:
    """Raw documents of one source in one status, and how many duplicates of them arrived."""

    source_id: str
    status: str
    documents: int
    duplicates: int


def summarize(
    tallies: list[DocumentTally], records: dict[str, int], rejected_rows: dict[str, int]
) -> dict[str, SourceFigures]:
    """One row of figures per source. Processed documents count as ``stored``; any other status
    (``failed``, or ``processing`` while a document is under way) under its own name."""
    out: dict[str, SourceFigures] = {}

    def row(source_id: str) -> SourceFigures:
        return out.setdefault(source_id, dict.fromkeys(FIGURES, 0))

    for tally in tallies:
        figures = row(tally.source_id)
        figures["stored" if tally.status == "processed" else tally.status] = tally.documents
        figures["duplicates"] += tally.duplicates
    for source_id, n in records.items():
        row(source_id)["records"] = n
    for source_id, n in rejected_rows.items():
        row(source_id)["rows_rejected"] = n
    return out
