"""Topic names and layout, keyed by client id so one client's events stay in order."""

from __future__ import annotations

CLIENT_EVENTS = "recsys.client-events"
NOTIFICATIONS = "recsys.notifications"
DEAD_LETTER = "recsys.dead-letter"

# name -> partitions. Partitions bound the number of workers that share the client events.
TOPICS: dict[str, int] = {CLIENT_EVENTS: 6, NOTIFICATIONS: 3, DEAD_LETTER: 1}
