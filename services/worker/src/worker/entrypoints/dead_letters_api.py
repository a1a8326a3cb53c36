"""``/api/v1/dead-letters``: raw documents that could not be processed, listed and replayed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from headwater.edge.auth import RequireToken
from worker.domain.dead_letters import DeadLetter
from worker.entrypoints.deps import ContainerDep, http_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["worker"])


def _letter(d: DeadLetter) -> dict[str, Any]:
    return {
        "id": d.letter_id,
        "topic": d.topic,
        "source_id": d.source_id,
        "task_id": d.task_id,
        "received_at": d.received_at.isoformat(),
        "replayed_at": d.replayed_at.isoformat() if d.replayed_at else None,
        "outcome": d.outcome,
        "cause": d.cause,
    }


@router.get("/dead-letters")
async def list_dead_letters(
    _auth: RequireToken, container: ContainerDep, all: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    """Oldest first, each with its cause; ``all`` includes the replayed and recovered ones."""
    return [_letter(d) for d in await container.dead_letters.list(all, limit)]


class ReplayRequest(BaseModel):
    id: str


@router.post("/dead-letters/replay")
async def replay(body: ReplayRequest, _auth: RequireToken, container: ContainerDep) -> dict[str, Any]:
    """Replay one letter (ids hold '/' and ':', so the id travels in the body); 404 when
    unknown or already replayed."""
    with http_errors():
        await container.dead_letters.replay(body.id)
    return {"id": body.id, "status": "replayed"}
