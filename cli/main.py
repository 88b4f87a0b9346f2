"""`recsys`: the single command line of RecSys31. Each job is a sub-command with --help."""

from __future__ import annotations

import logging

import typer

from cli import analytics as analytics_cli
from cli import api as api_cli
from cli import catalog as catalog_cli
from cli import data as data_cli
from cli import db as db_cli
from cli import events as events_cli
from cli import models as models_cli
from cli import recommend as recommend_cli
from cli import up as up_cli

app = typer.Typer(
    help="RecSys31 - bank product recommendations (data, models, API, workers).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cli.app, name="db")
app.add_typer(data_cli.app, name="data")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(analytics_cli.app, name="analytics")
app.add_typer(api_cli.app, name="api")
app.command()(models_cli.train)
app.command()(models_cli.evaluate)
app.command()(recommend_cli.recommend)
app.command()(events_cli.worker)
app.command()(events_cli.relay)
app.add_typer(events_cli.broker_app, name="broker")
app.command()(up_cli.up)


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)


if __name__ == "__main__":
    app()
