"""The worker's error taxonomy: what the service layer raises or returns, and what it becomes.

Processing a raw document (``DocumentProcessor.handle``) returns an outcome (``outcomes``),
which the subscription maps to Dapr:

- ``Processed`` (succeeded / partial / duplicate) → SUCCESS;
- ``Unprocessable`` (cannot be parsed at all, unknown config) → logged in ``parsing_logs``,
  ``task.failed`` announced, DROP → the dead-letter topic (never retried forever); a message
  that is not a raw document at all is dropped by the subscription itself; a reprocessed
  document whose kept body expired meanwhile (``BodyExpired``) is audited, announced and
  dropped the same way, without touching its stream;
- ``Busy`` (another delivery is still processing the same stream) and any exception (MongoDB, the
  sidecar) → RETRY (the inbound resiliency policy, then the dead-letter topic).

The operator API's errors are exceptions, mapped to statuses by the routes:

==================  ===================================================  ====
error               meaning                                              HTTP
==================  ===================================================  ====
``NotFound``        no such dataset version / dead letter (or replayed)  404
                    / source / stored document (reprocess)
``Conflict``        already rolled back; no history to restore from      409
anything else       a bug, or MongoDB / the sidecar unreachable          500
==================  ===================================================  ====
"""

from __future__ import annotations

__all__ = ["BodyExpired", "Conflict", "NotFound", "WorkerError"]


class WorkerError(Exception):
    """Base of the errors the worker's service layer raises on purpose; ``str()`` is the message."""


class NotFound(WorkerError):
    """The dataset version or dead letter does not exist (or is already used up)."""


class Conflict(WorkerError):
    """The request contradicts what is stored (already rolled back, history missing)."""


class BodyExpired(WorkerError):
    """The worker's kept copy of a body is gone (``store.raw_retention``): it cannot be reprocessed."""
