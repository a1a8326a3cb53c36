"""The planner's error taxonomy: what the service layer raises and what each one becomes.

==========================  ============================================  =================
error                       meaning                                       HTTP API answers
==========================  ============================================  =================
``NotFound``                no such source, source version or run         404
``Invalid``                 the request cannot be done as asked           422
                            (backfill range, unwindowed source)
``Conflict``                another writer won (``ConcurrentUpdateError``)  409, apply again
``StoreUnavailable``        MongoDB / FerretDB (or PostgreSQL behind it)   503 with the reason
                            still unreachable after the adapters' retries
``SchedulerUnavailable``    the Dapr scheduler did not answer a job call   503 with the reason
                            (a delete is recorded and retried instead)
anything else               a bug                                         500
==========================  ============================================  =================

Outside the HTTP API: a job trigger that fails to plan answers 500, and Dapr retries it per
the job's failure policy (the next scheduled trigger plans whatever is still due); unknown,
deleted, disabled, outdated and unregistered triggers are acknowledged, never failed (none of
them plans). A task result that cannot be parsed, or that the planner did not ask for
(``Refused``: an unknown run or task, a task never published, another window; see
``domain.reports``), is dead-lettered (``DROP``) and logged with its reason, never applied;
an exception while recording one is retried (``RETRY``, then the dead-letter topic
``task-results.dlq``); while the store is unavailable the delivery is held in the app for a
while (not counted by Dapr's retries) before ``RETRY``.
A report lost anyway is covered by the run timeout: the run is closed as failed, its windows
are retried.
"""

from __future__ import annotations

__all__ = [
    "ConcurrentUpdateError",
    "Conflict",
    "Invalid",
    "NotFound",
    "PlannerError",
    "Refused",
    "SchedulerUnavailable",
    "StoreUnavailable",
    "Unavailable",
]


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


class Refused(PlannerError):
    """A task report the planner did not ask for; ``str()`` is the reason (no report content)."""


class Unavailable(PlannerError):
    """A part the planner depends on cannot be reached right now; the caller may try again later."""


class StoreUnavailable(Unavailable):
    """The database did not answer (after retries with backoff); ``str()`` says why."""


class SchedulerUnavailable(Unavailable):
    """The Dapr scheduler (through the sidecar) did not answer a job call."""
