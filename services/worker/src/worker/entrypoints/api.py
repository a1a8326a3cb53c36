"""The worker's operator API: dataset rollback, dead letters, a storage summary."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from headwater.edge.auth import RequireToken
from headwater.telemetry import snapshot
from worker.bootstrap import Container
from worker.service_layer.rollback import RollbackError

router = APIRouter(prefix="/api/v1", tags=["worker"])


def _c(request: Request) -> Container:
    return request.app.state.container


@router.post("/datasets/{version_id}/rollback")
async def rollback(version_id: str, request: Request, _auth: RequireToken) -> dict[str, Any]:
    try:
        result = await _c(request).rollback.rollback(version_id)
    except RollbackError as exc:
        raise HTTPException(404 if "not found" in str(exc) else 409, str(exc)) from exc
    return result.__dict__


@router.get("/dead-letters")
async def list_dead_letters(
    request: Request, _auth: RequireToken, all: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    letters = await _c(request).dead_letters.list(all, limit)
    return [
        {
            "id": d["_id"],
            "topic": d["topic"],
            "source_id": d.get("source_id"),
            "task_id": d.get("task_id"),
            "received_at": d["received_at"].isoformat(),
            "replayed_at": d["replayed_at"].isoformat() if d.get("replayed_at") else None,
        }
        for d in letters
    ]


class ReplayRequest(BaseModel):
    id: str


@router.post("/dead-letters/replay")
async def replay(body: ReplayRequest, request: Request, _auth: RequireToken) -> dict[str, Any]:
    """Replay one letter (ids hold '/' and ':', so the id travels in the body)."""
    letter_id = body.id
    if not await _c(request).dead_letters.replay(letter_id):
        raise HTTPException(404, f"dead letter {letter_id!r} not found or already replayed")
    return {"id": letter_id, "status": "replayed"}


@router.get("/audit")
async def audit(
    request: Request, _auth: RequireToken, source: str | None = None, document: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The audit trail: one entry per step (dedup, store, failure, rollback) with counts and outcome."""
    query: dict[str, Any] = {}
    if source:
        query["source_id"] = source
    if document:
        query["document_id"] = document
    rows = await request.app.state.db["audit"].find(query).sort("at", -1).limit(min(limit, 1000)).to_list()
    return [
        {
            "at": r["at"].isoformat(),
            "source_id": r.get("source_id"),
            "document_id": r.get("document_id"),
            "task_id": r.get("task_id"),
            "step": r.get("step"),
            "outcome": r.get("outcome"),
            "counts": r.get("counts", {}),
            "error": r.get("error"),
        }
        for r in rows
    ]


@router.get("/summary")
async def summary(request: Request, _auth: RequireToken, source: str | None = None) -> dict[str, Any]:
    """Storage metrics per source: documents stored / duplicate / failed, records, rejected rows."""
    db = request.app.state.db
    match: dict[str, Any] = {"source_id": source} if source else {}
    docs = await (
        await db["raw_documents"].aggregate(
            [
                {"$match": match},
                {
                    "$group": {
                        "_id": {"s": "$source_id", "st": "$status"},
                        "n": {"$sum": 1},
                        "duplicates": {"$sum": "$duplicates"},
                    }
                },
            ]
        )
    ).to_list()
    out: dict[str, dict[str, int]] = {}
    for d in docs:
        row = out.setdefault(
            d["_id"]["s"], {"stored": 0, "failed": 0, "duplicates": 0, "records": 0, "rows_rejected": 0}
        )
        row["stored" if d["_id"]["st"] == "processed" else d["_id"]["st"]] = d["n"]
        row["duplicates"] += d["duplicates"] or 0
    for name, coll in (("records", "records"), ("rows_rejected", "parsing_logs")):
        cursor = await db[coll].aggregate([{"$match": match}, {"$group": {"_id": "$source_id", "n": {"$sum": 1}}}])
        for d in await cursor.to_list():
            out.setdefault(d["_id"], {"stored": 0, "failed": 0, "duplicates": 0, "records": 0, "rows_rejected": 0})[
                name
            ] = d["n"]
    return {"sources": out, "counters": snapshot()}
