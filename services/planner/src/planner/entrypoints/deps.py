"""Dependencies of the planner's routes: the container the lifespan built, and HTTP answers
for the service layer's errors (``planner.service_layer.errors`` describes the taxonomy)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from planner.bootstrap import Container
from planner.service_layer.errors import Conflict, Invalid, NotFound, PlannerError

__all__ = ["STATUS_CODES", "ContainerDep", "install_error_handlers"]

STATUS_CODES: dict[type[PlannerError], int] = {NotFound: 404, Invalid: 422, Conflict: 409}


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(_container)]


async def _answer(request: Request, exc: Exception) -> JSONResponse:
    status = next(code for kind, code in STATUS_CODES.items() if isinstance(exc, kind))
    return JSONResponse({"detail": str(exc)}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Answer ``NotFound`` 404, ``Invalid`` 422 and ``Conflict`` 409 with ``{"detail": message}``."""
    for kind in STATUS_CODES:
        app.add_exception_handler(kind, _answer)
