"""`recsys analytics ...`: median profiles per product, a client's probabilities."""

from __future__ import annotations

import typer

from cli.common import console, fail, print_json, run

app = typer.Typer(help="Analytics: product profiles, client conversion probabilities.", no_args_is_help=True)


@app.command()
def profiles(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Median profile of each product's holders and recent adopters."""
    from core.services.analytics import NotFound, product_profiles

    try:
        data = run(product_profiles())
    except NotFound as exc:
        fail(str(exc))
    if json_out:
        print_json(data)
        return
    from rich.table import Table

    table = Table("product", "holders", "age", "income", "segment", "adopters (3m)", "adopter age")
    for code, p in data["profiles"].items():
        h, a = p["holders"], p["recent_adopters"]
        table.add_row(
            code,
            str(h["clients"]),
            str(h.get("age", "-")),
            str(h.get("income", "-")),
            str(h.get("segment", "-")),
            str(a["clients"]),
            str(a.get("age", "-")),
        )
    console.print(table)


@app.command()
def client(
    client_id: int = typer.Argument(..., help="Client id."),
    strategy: str = typer.Option("hybrid", "--strategy", help="hybrid | popularity | rules | cf"),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Conversion probability of one client for every product."""
    from core.services.analytics import NotFound, client_probabilities

    if strategy not in ("hybrid", "popularity", "rules", "cf"):
        fail(f"--strategy: unknown strategy {strategy!r} (hybrid, popularity, rules, cf)")
    try:
        data = run(client_probabilities(client_id, strategy=strategy))
    except NotFound as exc:
        fail(str(exc))
    if json_out:
        print_json(data)
        return
    for p in data["probabilities"]:
        flag = "" if p["eligible"] else " (not eligible / held)"
        console.print(f"{p['product']:10s} {p['probability']:.4f}{flag}")
