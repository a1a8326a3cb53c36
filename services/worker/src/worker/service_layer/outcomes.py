"""What handling one raw document comes to (how each reaches Dapr: ``errors``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from headwater.contracts.messages import TaskStatus

__all__ = ["Busy", "Outcome", "Processed", "Unprocessable"]


@dataclass(frozen=True)
class Processed:
    """Stored (``succeeded``, or ``partial`` with rejected rows) or a ``duplicate`` (also a
    superseded, late copy: not applied)."""

    status: TaskStatus
    document_id: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Unprocessable:
    """Can never succeed as it is: dead-lettered."""

    document_id: str | None
    error: str


@dataclass(frozen=True)
class Busy:
    """Another delivery is still processing the same stream (request): try again later."""

    document_id: str


Outcome = Processed | Unprocessable | Busy
