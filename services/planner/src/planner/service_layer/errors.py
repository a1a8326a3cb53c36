"""The planner's error taxonomy: what the service layer raises and what each one becomes.

==========================  ============================================  =================
error                       meaning                                       HTTP API answers
==========================  ============================================  =================
``NotFound``                no such source, source version or run         404
``Invalid``                 the request cannot be done as asked           422
                            (backfill range, unwindowed source)
``Conflict``                another writer won (``ConcurrentUpdateError``)  409, apply again
anything else               a bug, or MongoDB / the sidecar unreachable   500
==========================  ============================================  =================

Outside the HTTP API: a job trigger that fails to plan answers 500, and Dapr retries it per
the job's failure policy (the next scheduled trigger plans whatever is still due); unknown,
deleted, disabled and outdated triggers are acknowledged, never failed. A task result that
cannot be parsed is dead-lettered (``DROP``); an exception while recording one is retried
(``RETRY``, then the dead-letter topic ``task-results.dlq``).
"""

from __future__ import annotations

__all__ = ["ConcurrentUpdateError", "Conflict", "Invalid", "NotFound", "PlannerError"]


class PlannerError(Exception):
    """Base of the errors the planner's service layer raises on purpose; ``str()`` is the message."""


class NotFound(PlannerError):
    """The source, source version or run does not exist."""


class Invalid(PlannerError):
    """The request is well-formed but cannot be done as asked."""


class Conflict(PlannerError):
    """Another writer changed the same thing first; the caller may try again."""


class ConcurrentUpdateError(Conflict):
    """Another apply of the same source won the race; the caller may retry."""
