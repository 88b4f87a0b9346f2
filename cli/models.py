"""`recsys train` and `recsys evaluate`: fit every strategy, compare them offline."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.common import console, fail, print_json, run


def train() -> None:
    """Train the serving model set (hybrid, clusters, cold start, baselines) and register it."""
    from core.services.training import train_and_save

    try:
        summary = run(train_and_save(console=console))
    except ValueError as exc:
        fail(str(exc))
    console.print(
        f"trained {summary['version']}: {summary['train_rows']:,} client-months, "
        f"k={summary['clusters_k']} clusters"
    )


def evaluate(
    json_out: bool = typer.Option(False, "--json", help="Print the evaluation as JSON."),
    latest: bool = typer.Option(
        False, "--latest", help="Show the latest stored evaluation; evaluate only if there is none."
    ),
    if_missing: bool = typer.Option(
        False,
        "--if-missing",
        help="Evaluate only if no evaluation is stored (what `recsys up` runs in the background).",
    ),
) -> None:
    """Evaluate every strategy on the last month (trained on the months before it).

    Minutes on the demo population (it retrains every model for its holdout month), so the
    result is stored and kept: the API and the analytics panel read the latest stored one."""
    from core.services.evaluation import evaluate as run_evaluation
    from core.services.evaluation import latest_evaluation

    result = run(latest_evaluation()) if latest or if_missing else None
    if result is not None and if_missing:
        console.print(f"an evaluation is stored (model run {result['model_run_id']}); nothing to do")
        return
    if result is None:
        try:
            result = run(run_evaluation(console=console))
        except ValueError as exc:
            fail(str(exc))
    if json_out:
        print_json(result)
        return
    render_comparison(result)


METRICS = (
    "map@7",
    "ndcg@7",
    "precision@7",
    "recall@7",
    "coverage",
    "diversity",
    "novelty",
    "ratio_to_oracle",
    "ratio_to_ceiling",
)


def render_comparison(result: dict) -> None:  # type: ignore[type-arg]
    table = Table(
        "strategy", *METRICS, title=f"Next-month take-up, test month {result['window']['target_month']}"
    )
    unavailable = []
    order = ["hybrid", "popularity", "rules", "cf", "llm", "ceiling", "oracle", "perfect"]
    names = sorted(result["strategies"], key=lambda n: order.index(n) if n in order else len(order))
    for name in names:
        metrics = result["strategies"][name]
        if not metrics.get("available", True):
            table.add_row(name, *["n/a"] * (len(METRICS) + 1))
            unavailable.append(f"{name}: not available ({metrics.get('reason')})")
            continue
        ci = metrics.get("map@7_vs_popularity") or {}
        vs = f"{ci['ratio']:.2f} [{ci['low']:.2f}, {ci['high']:.2f}]" if ci.get("ratio") is not None else "-"
        table.add_row(name, *[_fmt(metrics.get(m)) for m in METRICS], vs)
    console.print(table)
    for line in unavailable:
        console.print(line)
    test = result["test"]
    console.print(
        f"{test['clients']:,} test clients, {test['clients_adding']:,} added something "
        f"({test['additions']:,} additions); clusters k={result['clusters_k']}"
    )
    render_cold_start(result.get("cold_start") or {})


def render_cold_start(cold: dict) -> None:  # type: ignore[type-arg]
    """Newcomers of the test month scored from the questionnaire (registration replay)."""
    if not cold.get("available"):
        console.print(f"cold start: not available ({cold.get('reason', 'not evaluated')})")
        return
    table = Table(
        "strategy", "map@7", "ndcg@7", "ratio_to_ceiling", "map@7 vs popularity [90%]",
        title=f"Cold start: {cold['clients']:,} clients who joined in {cold['month']}, "
        f"{cold['clients_adding']:,} opened a product",
    )
    for name, metrics in cold["strategies"].items():
        ci = metrics.get("map@7_vs_popularity") or {}
        vs = f"{ci['ratio']:.2f} [{ci['low']:.2f}, {ci['high']:.2f}]" if ci.get("ratio") is not None else "-"
        cells = [_fmt(metrics.get(k)) for k in ("map@7", "ndcg@7", "ratio_to_ceiling")]
        table.add_row(name, *cells, vs)
    console.print(table)


def _fmt(value: object) -> str:
    return "-" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))
