"""Topic and component names: the one place they are spelled."""

PUBSUB = "pubsub"
SECRET_STORE = "secretstore"
STATE_STORE = "statestore"
API_TOKEN_SECRET = "headwater:api_token"  # the operator API token, in SECRET_STORE

WORK_ITEMS = "work-items"
RAW_DOCUMENTS = "raw-documents"
TASK_RESULTS = "task-results"
INGESTION_EVENTS = "ingestion-events"
PROBES = "headwater-probes"


def dead_letter(topic: str) -> str:
    """Dead-letter topic of ``topic`` (each subscription has one, see DAPR.md §3)."""
    return f"{topic}.dlq"


APP_PLANNER = "planner"
APP_COLLECTION_MODEL = "collection-model"
APP_WORKER = "worker"
