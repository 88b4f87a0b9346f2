"""`recsys api`: serve the GraphQL API (uvicorn); `recsys api schema` prints its SDL."""

from __future__ import annotations

import sys

import typer

from cli.common import fail

app = typer.Typer(
    help="GraphQL API: `recsys api` serves it, `recsys api schema` prints the schema (SDL).",
    invoke_without_command=True,
)


@app.callback()
def serve(
    ctx: typer.Context,
    host: str = typer.Option(None, "--host", help="Bind address (default: API_HOST)."),
    port: int = typer.Option(None, "--port", help="Port (default: API_PORT)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="uvicorn worker processes."),
) -> None:
    """Serve GraphQL at /graphql (HTTP and graphql-transport-ws), /healthz, /readyz, /metrics."""
    if ctx.invoked_subcommand is not None:
        return
    import logging

    import uvicorn

    from api.app import create_app
    from api.config import ConfigError
    from core.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    bind = {"host": host or settings.api_host, "port": port or settings.api_port, "log_level": log_level}
    if workers == 1:
        try:
            asgi = create_app(settings)
        except ConfigError as exc:
            fail(str(exc))
        uvicorn.run(asgi, proxy_headers=False, **bind)  # type: ignore[arg-type]
        return
    # Several processes must verify each other's tokens: one secret for all of them.
    if settings.jwt_secret is None or not settings.jwt_secret.get_secret_value():
        if not settings.demo_login:
            fail("JWT_SECRET is not set (required outside the demo; see docs/API.md)")
        import os
        import secrets

        os.environ["JWT_SECRET"] = secrets.token_urlsafe(48)
        logging.getLogger("api").warning("JWT_SECRET is not set: one random secret for this run's workers")
    _shared_metrics_dir()
    uvicorn.run("api.app:create_app", factory=True, workers=workers, proxy_headers=False, **bind)  # type: ignore[arg-type]


def _shared_metrics_dir() -> None:
    """Several processes: prometheus_client's multiprocess mode, so /metrics on any of them sums
    all of them (api.metrics). A fresh folder per run: values of an earlier run must not count."""
    import os
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="recsys-api-metrics-")


@app.command()
def schema() -> None:
    """Print the GraphQL schema (SDL); schema.graphql at the repository root is this output."""
    from api.schema import sdl

    sys.stdout.write(sdl())
