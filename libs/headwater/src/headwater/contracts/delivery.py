"""How the events reach a subscriber, for the AsyncAPI document: the Dapr pub/sub servers,
the channel's pub/sub component and topic, the CloudEvents 1.0 attribute mapping and the
delivery guarantees (docs/subscribers.md walks through using them).

AsyncAPI has no Dapr binding, so the Dapr specifics are ``x-dapr`` extension fields (allowed
on servers, channels and messages by AsyncAPI 3.0) next to the standard ones.
"""

from __future__ import annotations

from typing import Any

from headwater.contracts.topics import INGESTION_EVENTS, PUBSUB, dead_letter

__all__ = ["CLOUDEVENT_HEADERS", "DELIVERY", "SERVERS", "channel_bindings", "cloudevent_headers"]

SERVERS: dict[str, Any] = {
    "local": {
        "host": "127.0.0.1:3500",
        "protocol": "http",
        "title": "Your app's Dapr sidecar (local stack)",
        "description": (
            "Subscribers never talk to the broker: their own Dapr sidecar delivers each event as an "
            f"HTTP POST of a CloudEvent to the route the app declared in GET /dapr/subscribe. The "
            f"pub/sub component `{PUBSUB}` (pubsub.redis, Redis Streams) is in the stack's resources "
            "path (`.headwater/<instance>/components`); its `scopes` must list the subscriber's app id "
            "(`headwater subscribers add <app-id>`)."
        ),
        "x-dapr": {"pubsubname": PUBSUB, "componentType": "pubsub.redis", "consumerGroup": "the app id"},
    },
    "kubernetes": {
        "host": "localhost:3500",
        "protocol": "http",
        "title": "Your pod's Dapr sidecar (Kubernetes)",
        "description": (
            f"The same component `{PUBSUB}` in the platform's namespace (deploy/k8s); add the subscriber's "
            "app id to its `scopes` and annotate the pod dapr.io/enabled, dapr.io/app-id, dapr.io/app-port."
        ),
        "x-dapr": {"pubsubname": PUBSUB, "componentType": "pubsub.redis", "consumerGroup": "the app id"},
    },
}

DELIVERY: dict[str, Any] = {
    "guarantee": "at-least-once",
    "idempotencyKey": "the event's idempotency_key, also the CloudEvent id: drop repeats by it",
    "ordering": (
        "none across events; one Redis Streams consumer group per app id, so replicas of one app compete "
        "and events of one source may arrive out of order (compare occurred_at)"
    ),
    "deadLetterTopic": (
        f"required: declare deadLetterTopic (e.g. {dead_letter(INGESTION_EVENTS)}) in the subscription. "
        "Dapr 1.18 with Redis Streams acknowledges a failed delivery unless the subscription has a "
        "dead-letter topic and the component an inbound retry policy (deploy/dapr/components/resiliency.yaml)"
    ),
    "outcomes": (
        'answer 200 with {"status": "SUCCESS"} when done, "RETRY" to be redelivered (retry policy, then '
        'the dead-letter topic), "DROP" to dead-letter at once; any other status than 2xx or 404 is a retry'
    ),
}

CLOUDEVENT_HEADERS: dict[str, Any] = {
    "specversion": {"const": "1.0"},
    "type": {"description": "the event's type (document.stored, ...), equal to data.type"},
    "id": {"description": "the event's idempotency_key, equal to data.idempotency_key"},
    "subject": {"description": "the source id, equal to data.source_id"},
    "source": {"description": "the publishing app id (worker, or collection-model for task.failed)"},
    "topic": {"const": INGESTION_EVENTS},
    "pubsubname": {"const": PUBSUB},
    "datacontenttype": {"const": "application/json"},
    "time": {"description": "when Dapr published it (RFC 3339)"},
}


def cloudevent_headers(event_type: str) -> dict[str, Any]:
    """The CloudEvent envelope of one event type (AsyncAPI message ``headers``)."""
    properties = {**CLOUDEVENT_HEADERS, "type": {**CLOUDEVENT_HEADERS["type"], "const": event_type}}
    return {"type": "object", "required": ["specversion", "type", "id", "subject", "source"], "properties": properties}


def channel_bindings(topic: str) -> dict[str, Any]:
    """The Dapr extension of a channel: component, topic and dead-letter topic to declare."""
    return {"x-dapr": {"pubsubname": PUBSUB, "topic": topic, "deadLetterTopic": dead_letter(topic)}}
