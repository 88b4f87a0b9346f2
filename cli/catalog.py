"""`recsys catalog ...`: the product catalog file and the product table."""

from __future__ import annotations

import typer

from cli.common import console, print_json, run

app = typer.Typer(help="Product catalog: show it, load it into the database.", no_args_is_help=True)


@app.command()
def show(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the catalog file (core/catalog/products.toml)."""
    from dataclasses import asdict

    from core.catalog import load_catalog

    cat = load_catalog()
    if json_out:
        print_json([asdict(p) for p in cat.products])
        return
    from rich.table import Table

    table = Table("code", "kind", "category", "name_en", "min_age", "credit", "requires", "conflicts")
    for p in cat.products:
        table.add_row(
            p.code,
            p.kind,
            p.category,
            p.name_en,
            str(p.min_age),
            str(p.is_credit),
            ",".join(p.requires),
            ",".join(p.conflicts),
        )
    console.print(table)


@app.command()
def load() -> None:
    """Insert or update the product table from the catalog file."""
    from core.catalog import load_catalog
    from core.data.store import upsert_catalog
    from core.db.session import raw_connection

    async def _load() -> int:
        async with raw_connection() as conn:
            return await upsert_catalog(conn, load_catalog())

    console.print(f"catalog loaded: {run(_load())} products")
