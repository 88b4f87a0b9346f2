"""`recsys data ...`: load the real Santander file, generate synthetic data, profile."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import console, fail, print_json, run

app = typer.Typer(help="Data: load-santander, export-santander, generate, profile.", no_args_is_help=True)


@app.command("load-santander")
def load_santander(
    path: Path = typer.Argument(..., help="A train_ver2.csv-format file (the full 2 GB one or a sample)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Read at most N data rows."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first malformed row; load nothing."),
    chunk_rows: int = typer.Option(200_000, "--chunk-rows", min=1000, help="Rows per chunk (bounds memory)."),
) -> None:
    """Load the real Santander format in chunks (idempotent: a reload adds no duplicates)."""
    from core.data.santander_load import MalformedRowError, load_santander_file

    if not path.exists():
        fail(f"PATH: no such file: {path}")
    try:
        report = run(load_santander_file(path, limit=limit, strict=strict, chunk_rows=chunk_rows))
    except MalformedRowError as exc:
        fail(f"{path}:{exc.line}: {exc.reason} (nothing was loaded)")
    console.print(report.summary())
    for issue in report.malformed[:20]:
        console.print(f"[yellow]skipped[/] line {issue.line}: {issue.reason}")
    if len(report.malformed) > 20:
        console.print(f"... and {len(report.malformed) - 20} more malformed rows")


@app.command("export-santander")
def export_santander(
    path: Path = typer.Argument(..., help="Output file (train_ver2.csv format; overwritten)."),
    clients: int = typer.Option(5000, "--clients", min=1, help="Number of simulated clients."),
    months: int = typer.Option(17, "--months", min=2, max=60, help="Monthly snapshots (from 2015-01-28)."),
    seed: int = typer.Option(31, "--seed", help="Random seed (same seed, same file)."),
    workers: int = typer.Option(2, "--workers", min=1, max=16, help="Simulating processes."),
    json_out: bool = typer.Option(False, "--json", help="Print the report (with ownership rates) as JSON."),
) -> None:
    """Write the simulator's clients and holdings as a train_ver2.csv (no operations, no offer log)."""
    from dataclasses import asdict

    from rich.progress import Progress

    from core.data.santander_export import export_santander as export

    if path.is_dir():
        fail(f"PATH: is a folder, expected a file name: {path}")
    if not path.parent.exists():
        fail(f"PATH: folder does not exist: {path.parent}")
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("exporting clients", total=clients)
        report = export(
            path, clients, months, seed, workers=workers,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    if json_out:
        print_json(asdict(report))
    else:
        console.print(report.summary())


@app.command()
def generate(
    clients: int = typer.Option(5000, "--clients", min=1, help="Number of synthetic clients."),
    months: int = typer.Option(17, "--months", min=2, max=60, help="Monthly snapshots (from 2015-01-28)."),
    seed: int = typer.Option(31, "--seed", help="Random seed (same seed, same data)."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when clients already exist."),
) -> None:
    """Generate Santander-shaped clients, holdings, operations and an offer log, with truth."""
    from core.data.generate import generate_to_db

    report = run(generate_to_db(n_clients=clients, n_months=months, seed=seed, if_empty=if_empty))
    console.print(report.summary())


@app.command()
def profile(
    json_out: bool = typer.Option(False, "--json", help="Print JSON (machine-readable)."),
    dataset: int | None = typer.Option(None, "--dataset", help="Dataset id (default: all data)."),
) -> None:
    """Profile what is in the database: clients, months, operations, ownership, add rates."""
    from core.data.profile import profile_database, render_profile

    data = run(profile_database(dataset_id=dataset))
    if json_out:
        print_json(data)
    else:
        render_profile(data, console)


@app.command()
def calibrate(
    path: Path = typer.Argument(..., help="A train_ver2.csv-format file (e.g. the 10k sample)."),
    out: Path | None = typer.Option(None, "--out", help="Output file (default: core/data/calibration.json)."),
) -> None:
    """Derive the simulator's calibration (aggregates only) from a real Santander file."""
    from core.data.simulator.calibration import CALIBRATION_FILE, derive_calibration, save_calibration

    if not path.exists():
        fail(f"PATH: no such file: {path}")
    written = save_calibration(derive_calibration(path), out or CALIBRATION_FILE)
    console.print(f"calibration written to {written}")
