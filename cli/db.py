"""`recsys db ...`: schema migrations (alembic is the only thing that changes the schema).

alembic (with mako and pygments) is imported by the commands that use it, not by every
`recsys` process: the relay, the worker and the API start through this CLI too.
"""

from __future__ import annotations

import typer

from cli.common import console, run

app = typer.Typer(help="Database schema: upgrade, downgrade, check, URL.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: head) and load the product catalog."""
    from core.db import migrate

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
    from core.db import migrate

    migrate.downgrade(revision=revision)
    console.print(f"schema at {revision}")


@app.command()
def check() -> None:
    """Fail if the models and the database schema differ (alembic check)."""
    from core.db import migrate

    migrate.check()
    console.print("no drift between models and database")


@app.command()
def url() -> None:
    """Print the database URL in use (starts the embedded server when DATABASE_URL is unset)."""
    from core.db.session import database_url

    typer.echo(database_url())
