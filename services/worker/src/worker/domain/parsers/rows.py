"""What every parser takes and yields: the ``parse`` options, one row, the whole-document error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DocumentParseError", "ParseOptions", "ParsedRow"]


class DocumentParseError(ValueError):
    """The document cannot be parsed at all; ``args[0]`` says precisely why."""


@dataclass(frozen=True)
class ParseOptions:
    """The ``parse`` section of a source config, as the domain sees it."""

    format: str
    records_path: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 1

    def __post_init__(self) -> None:
        if self.header_row < 1:
            raise ValueError(f"header_row is 1-based, got {self.header_row}")


@dataclass(frozen=True)
class ParsedRow:
    """One record of a document and where it was: ``row_number`` as the operator counts it."""

    row_number: int
    data: dict[str, Any]
