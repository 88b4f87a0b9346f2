"""`recsys recommend`: offers for clients from the decision layer, next to the hybrid alone."""

from __future__ import annotations

import os

import typer
from rich.table import Table

from cli.common import console, fail, print_json, run


def recommend(
    client_ids: list[int] = typer.Argument(None, help="Client ids (default: a few demo clients)."),
    demo: int = typer.Option(3, "--demo", min=1, max=50, help="How many demo clients when no id is given."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    seed: int = typer.Option(31, "--seed", help="Seed of the exploration draw (reproducible output)."),
    all_clients: bool = typer.Option(
        False, "--all", help="Batch job: decide and store a recommendation for every client."
    ),
    workers: int = typer.Option(
        0, "--workers", min=0, max=64, help="With --all: processes deciding at once (0 = one per CPU core)."
    ),
) -> None:
    """Decide offers (uplift + business rules + diversity) and show why, beside the hybrid's top 3.

    With --all: the batch job that stores a fresh recommendation for every client (what the
    API serves until the worker refreshes a client on its next event).
    """
    if all_clients:
        _recommend_all(seed, workers or os.cpu_count() or 1)
        return
    import random

    from core.services.analytics import NotFound
    from core.services.recommend import demo_client_ids, recommend_for_client

    async def _all() -> list[dict]:  # type: ignore[type-arg]
        ids = list(client_ids or []) or await demo_client_ids(demo)
        rng = random.Random(seed)
        return [await recommend_for_client(cid, rng=rng) for cid in ids]

    try:
        results = run(_all())
    except NotFound as exc:
        fail(str(exc))
    if json_out:
        print_json(results)
        return
    for r in results:
        render(r)


def render(result: dict) -> None:  # type: ignore[type-arg]
    events = ", ".join(result["life_events"]) or "none"
    console.print(f"\n[bold]client {result['client_id']}[/]  (life events: {events})")
    table = Table("rank", "offer", "kind", "p_take", "uplift", "expected value", "reasons")
    for o in result["offers"]:
        uplift = "-" if o["uplift"] is None else f"{o['uplift']:+.4f}"
        feats = ", ".join(name for name, _ in o["reasons"][:2])
        table.add_row(
            str(o["rank"]),
            f"{o['product_code']} ({o['name']})",
            o["kind"],
            f"{o['p_take']:.4f}",
            uplift,
            f"{o['expected_value']:.2f}",
            "; ".join(o["reason_codes"][:3]) + (f" | {feats}" if feats else ""),
        )
    if result["offers"]:
        console.print(table)
    else:
        console.print(f"no contact: {result['no_contact_reason']}")
    hybrid = ", ".join(f"{h['product']} ({h['p_take']:.3f})" for h in result["hybrid_only"])
    console.print(f"hybrid scorer alone would offer: {hybrid}")


def _recommend_all(seed: int, workers: int) -> None:
    import time

    from rich.progress import Progress

    from core.services.analytics import NotFound
    from core.services.batch import recommend_all

    started = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("deciding offers", total=None)
        try:
            counts = run(
                recommend_all(
                    seed=seed,
                    workers=workers,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            )
        except NotFound as exc:
            fail(str(exc))
    took = time.perf_counter() - started
    if not counts["uplift_models"]:
        console.print(
            "no uplift models (no offer log yet): offers ranked by take-up x value (reason code on "
            "each offer); delivered offers are logged with their propensities, so uplift can be learned"
        )
    console.print(
        f"stored {counts['stored']:,} recommendations ({counts['with_offers']:,} with offers) "
        f"for {counts['clients']:,} clients in {took:.1f} s with {counts.get('workers', 1):.0f} process(es) "
        f"({counts['stored'] / max(took, 1e-9):,.0f} clients/s; score {counts['score_s']} s, "
        f"decide+explain {counts['decide_s']} s, store {counts['store_s']} s)"
    )
