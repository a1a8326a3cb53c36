"""Dependencies of collection-model's routes: the container the lifespan built."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from collection_model.bootstrap import Container

__all__ = ["ContainerDep"]


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(_container)]
