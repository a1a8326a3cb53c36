"""What every route of the operator API shares: the container, and the service layer's errors
as HTTP statuses (the taxonomy: ``service_layer/errors.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from worker.bootstrap import Container
from worker.service_layer.errors import Conflict, NotFound

__all__ = ["ContainerDep", "http_errors"]


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(_container)]


@contextmanager
def http_errors() -> Iterator[None]:
    """``NotFound`` → 404, ``Conflict`` → 409, with the error's message as ``detail``."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
