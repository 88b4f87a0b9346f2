"""Service layer: use cases that combine the pure engine with the database adapters."""
