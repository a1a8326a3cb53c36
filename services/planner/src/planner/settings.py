"""Settings of the planner service (environment, see headwater.edge.settings)."""

from pydantic import Field

from headwater.edge.settings import ServiceSettings

__all__ = ["Settings"]


class Settings(ServiceSettings):
    """Planner settings (``HEADWATER_*``)."""

    max_work_items_per_run: int = Field(default=100, ge=1)
    """global cap on the work items of one run (each source's ``max_slices_per_run`` applies too)"""
    publish_attempts: int = Field(default=4, ge=1)
    """tries per work item before the run is marked failed"""
    publish_retry_wait_max: float = Field(default=3.0, gt=0)
    """longest wait between two tries, in seconds (exponential backoff with jitter up to it)"""
    run_timeout: float = Field(default=900.0, gt=0)
    """seconds a run may stay planned or enqueued (plus four of its source's request timeouts)
    before the sweep closes it as failed and its windows are retried"""
    sweep_interval: float = Field(default=30.0, gt=0)
    """seconds between two sweeps (overdue runs, pending job deletions)"""
    store_hold: float = Field(default=30.0, ge=0)
    """seconds a task-result delivery is held, retrying, while the store is unavailable, before
    it is answered RETRY (held time does not count toward Dapr's retries; keep it plus the
    longest retry pacing under the Redis processingTimeout of 60 s)"""
    job_concurrency: int = Field(default=32, ge=1)
    """Dapr Jobs API calls in flight at once (registering many jobs: a batch apply, the start-up
    sync, the sweep); the API takes one job per call"""
    trigger_concurrency: int = Field(default=8, ge=1)
    """job triggers planned at once; the others wait their turn in arrival order, so a burst of
    triggers due at the same time is worked off first come, first served (and ``/healthz``, which
    the sidecar needs answered within 500 ms, is not queued behind all of them)"""
