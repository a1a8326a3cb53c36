"""What the worker's pipeline and HTTP tests share: a source config, a CSV, a raw document
factory and ``App`` (every fake plus the container ``bootstrap.build`` wires from them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from worker_fakes import FakeAdapters

from headwater.config import SourceConfig
from headwater.contracts.messages import RawDocument
from worker.bootstrap import Container, build
from worker.domain.dedup import content_hash
from worker.service_layer.claims import StreamClaims, receipt_of
from worker.settings import Settings

__all__ = ["CONFIG", "CSV1", "SETTINGS", "App", "busy", "doc", "raw_id"]

SETTINGS = Settings(stream_wait_s=0)  # a busy stream answers at once (tests that wait set their own)

CONFIG = SourceConfig.model_validate(
    {
        "source_id": "prices",
        "ingestion": {"mode": "push"},
        "parse": {"format": "csv"},
        "map": {"fields": {"sku": "Product Code"}, "standard_fields": ["sku", "name", "price"]},
        "validate": {"fields": {"price": {"type": "number", "required": True, "min": 0}}},
        "store": {"key": ["sku"], "history": "scd2"},
        "events": {"records_changed_batch": 2},
    }
)


class App(FakeAdapters):  # type: ignore[misc]
    """Every fake, and the container ``bootstrap.build`` wires from them."""

    def __init__(self, config: SourceConfig = CONFIG) -> None:
        super().__init__({("prices", 1): config})
        self.c: Container = build(self.adapters(), SETTINGS)


def doc(
    content: str,
    task: str = "prices:t1",
    key: str = "page-1",
    version: int = 1,
    fetched_at: datetime = datetime(2026, 2, 1, tzinfo=UTC),
    **fields: Any,
) -> RawDocument:
    fields.setdefault("run_id", "r1")
    return RawDocument(
        source_id="prices",
        config_version=version,
        task_id=task,
        document_key=key,
        content_type="text/csv",
        content=content,
        fetched_at=fetched_at,
        **fields,
    )


CSV1 = "Product Code,Name,Price,Colour\nA,Bolt,1.50,red\nB,Nut,-2,blue\nC,Screw,abc,\nD,Washer,0.10,\n"


def raw_id(content: str) -> str:
    """The ``raw_documents`` id of ``content`` in source ``prices``."""
    return f"prices:{content_hash(content.encode())}"


async def busy(app: App, message: RawDocument) -> str:
    """Another delivery claims ``message``'s stream (and keeps it): its occurrence id."""
    claim = await StreamClaims(app.heads, app.clock, 300, 0).claim(receipt_of(message, message.content.encode()))
    assert claim.state == "new"
    return claim.occurrence
