"""`recsys db ...`: schema migrations (alembic is the only thing that changes the schema)."""

from __future__ import annotations

import typer

from cli.common import console, run
from core.db import migrate

app = typer.Typer(help="Database schema: upgrade, downgrade, check, URL.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: head) and load the product catalog."""
    migrate.upgrade(revision=revision)
    if revision == "head":
        from core.catalog import load_catalog
        from core.data.store import upsert_catalog
        from core.db.session import raw_connection

        async def _load() -> int:
            async with raw_connection() as conn:
                return await upsert_catalog(conn, load_catalog())

        n = run(_load())
        console.print(f"schema at head; catalog: {n} products")


@app.command()
def downgrade(
    revision: str = typer.Argument("base", help="Target revision (default: base, drops everything)."),
) -> None:
    """Revert migrations down to REVISION."""
    migrate.downgrade(revision=revision)
    console.print(f"schema at {revision}")


@app.command()
def check() -> None:
    """Fail if the models and the database schema differ (alembic check)."""
    migrate.check()
    console.print("no drift between models and database")


@app.command()
def url() -> None:
    """Print the database URL in use (starts the embedded server when DATABASE_URL is unset)."""
    from core.db.session import database_url

    typer.echo(database_url())
