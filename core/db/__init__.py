"""Database adapter: SQLModel tables, engine/session factories, the embedded server, COPY."""
