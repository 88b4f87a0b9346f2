"""Events: topic names, the transactional outbox, the relay, the broker adapter.

Writes that must trigger work add an outbox row in the same transaction (`outbox.add_event`);
the relay publishes pending rows to Kafka; workers consume them. See docs/EVENTS.md.
"""

from core.events.outbox import EVENT_TYPES, NOTIFICATION_CREATED, add_event, add_notification_events
from core.events.topics import CLIENT_EVENTS, DEAD_LETTER, NOTIFICATIONS, TOPICS

__all__ = [
    "CLIENT_EVENTS",
    "DEAD_LETTER",
    "EVENT_TYPES",
    "NOTIFICATIONS",
    "NOTIFICATION_CREATED",
    "TOPICS",
    "add_event",
    "add_notification_events",
]
