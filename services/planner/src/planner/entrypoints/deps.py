"""Dependencies of the planner's routes: the container the lifespan built, and HTTP answers
for the service layer's errors (``planner.service_layer.errors`` describes the taxonomy)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from planner.bootstrap import Container
from planner.service_layer.errors import (
    Conflict,
    Invalid,
    NotFound,
    PlannerError,
    SchedulerUnavailable,
    StoreUnavailable,
    Unavailable,
)

__all__ = ["STATUS_CODES", "ContainerDep", "install_error_handlers"]

STATUS_CODES: dict[type[PlannerError], int] = {NotFound: 404, Invalid: 422, Conflict: 409, Unavailable: 503}
RETRY_AFTER = "5"
_REASONS = {StoreUnavailable: "store_unavailable", SchedulerUnavailable: "scheduler_unavailable"}


async def _container(request: Request) -> Container:
    """``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop (and a
    wait for one of its 40 threads) on every request."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(_container)]


async def _answer(request: Request, exc: Exception) -> JSONResponse:
    status = next(code for kind, code in STATUS_CODES.items() if isinstance(exc, kind))
    if isinstance(exc, Unavailable):
        reason = next((name for kind, name in _REASONS.items() if isinstance(exc, kind)), "unavailable")
        body = {"detail": {"message": str(exc), "reason": reason, "retry_after_seconds": int(RETRY_AFTER)}}
        return JSONResponse(body, status_code=status, headers={"Retry-After": RETRY_AFTER})
    return JSONResponse({"detail": str(exc)}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Answer ``NotFound`` 404, ``Invalid`` 422 and ``Conflict`` 409 with ``{"detail": message}``,
    and ``Unavailable`` (store or scheduler) 503 with ``{"detail": {"message", "reason"}}`` and
    ``Retry-After``."""
    for kind in STATUS_CODES:
        app.add_exception_handler(kind, _answer)
