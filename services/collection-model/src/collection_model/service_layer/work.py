"""Handling one work item: load the config version, fetch, publish documents and the result."""

from __future__ import annotations

import structlog

from collection_model.service_layer.fetch import FetchJob, FetchService
from collection_model.service_layer.ports import ConfigSource, DocumentEntry, FetchedDocument, Publisher
from headwater.contracts.messages import FetchTask, TaskResult, TaskStatus

__all__ = ["WorkHandler"]

log = structlog.get_logger(__name__)


class _TaskSink:
    """Hands documents on in batches (one bulk publish per ``batch`` documents or ``max_bytes``),
    which costs the sidecar and Redis far less than one call each. ``flush`` at the end of the
    task; a failed publish raises, so the work item is redelivered (the worker dedups)."""

    def __init__(
        self, task: FetchTask, publisher: Publisher, batch: int = 50, max_bytes: int = 4 * 1024 * 1024
    ) -> None:
        self._task, self._publisher, self._batch, self._max = task, publisher, batch, max_bytes
        self._docs: list[DocumentEntry] = []
        self._bytes = 0

    async def emit(self, doc: FetchedDocument) -> None:
        self._docs.append((doc.document_key, doc.content, doc.content_type, doc.linkage))
        self._bytes += len(doc.content)
        if len(self._docs) >= self._batch or self._bytes >= self._max:
            await self.flush()

    async def flush(self) -> None:
        docs, self._docs, self._bytes = self._docs, [], 0
        if docs:
            await self._publisher.publish_documents(self._task, docs)


class WorkHandler:
    def __init__(self, configs: ConfigSource, fetch: FetchService, publisher: Publisher) -> None:
        self._configs, self._fetch, self._publisher = configs, fetch, publisher

    async def handle(self, task: FetchTask) -> TaskResult:
        try:
            config = await self._configs.get(task.source_id, task.config_version)
        except LookupError as exc:
            result = TaskResult(
                source_id=task.source_id,
                task_id=task.task_id,
                run_id=task.run_id,
                reporter="collection-model",
                status=TaskStatus.FAILED,
                error=str(exc),
                window=task.window,
                counts={"documents": 0},
            )
            await self._publisher.publish_result(result)
            return result
        ingestion = config.ingestion
        if ingestion.request is None:
            raise ValueError(f"source {task.source_id!r} has no request to fetch (mode {ingestion.mode})")
        job = FetchJob(
            source_id=task.source_id,
            task_id=task.task_id,
            request=ingestion.request,
            retry=ingestion.retry,
            iteration=ingestion.iteration,
            window=(task.window.start, task.window.end) if task.window else None,
        )
        sink = _TaskSink(task, self._publisher)
        outcome = await self._fetch.run(job, sink)
        await sink.flush()
        error = "; ".join(f"{f.key}: {f.error}" for f in outcome.failures[:5]) or None
        result = TaskResult(
            source_id=task.source_id,
            task_id=task.task_id,
            run_id=task.run_id,
            reporter="collection-model",
            status=TaskStatus(outcome.status),
            counts=outcome.counts(),
            error=error,
            window=task.window,
        )
        await self._publisher.publish_result(result)
        log.info(
            "task fetched", source_id=task.source_id, task_id=task.task_id, status=outcome.status, **outcome.counts()
        )
        return result
