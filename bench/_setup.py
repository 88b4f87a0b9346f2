"""The set-up the API, event and load benchmarks share: a state folder, a migrated database, a
simulated population with a trained model set, free ports and the `recsys` command.

One copy, so the three benchmarks build their population the same way and a change to the
set-up (a new migration step, the CLI's module path) is made once. Imports of core stay
inside the functions: `--help` answers without loading the model stack.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path


def state_home(reuse: Path | None, prefix: str) -> Path:
    """The benchmark's state folder (`reuse`, else a fresh one under /tmp), readable by the
    embedded PostgreSQL's user and set as RECSYS_HOME for this process and its children."""
    home = reuse or Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    home.chmod(0o755)
    os.environ["RECSYS_HOME"] = str(home)
    return home


def migrated_database() -> str:
    """The configured (or embedded) database's URL, with the schema at the latest migration."""
    from core.db import migrate
    from core.db.session import database_url

    url = database_url()
    migrate.upgrade(url)
    return url


def ensure_population(
    url: str,
    *,
    clients: int,
    months: int,
    seed: int,
    quick_models: bool = False,
    show_progress: bool = True,
) -> dict[str, float]:
    """The catalog, then a simulated population when the database has no client and a trained
    model set when it has none; returns the seconds each step that ran took.

    quick_models: 100 boosting iterations per hybrid model instead of the default, enough for
    serving-path benchmarks that do not measure model quality."""
    from core.catalog import load_catalog
    from core.data.generate import generate_to_db
    from core.data.store import upsert_catalog
    from core.db.session import raw_connection
    from core.models.hybrid import HybridParams
    from core.services.training import train_and_save

    async def _state() -> tuple[int, int]:
        async with raw_connection(url) as conn:
            await upsert_catalog(conn, load_catalog())
            n_clients = int(await conn.fetchval("SELECT count(*) FROM client"))
            n_models = int(await conn.fetchval("SELECT count(*) FROM model_run WHERE kind = 'models'"))
        return n_clients, n_models

    timings: dict[str, float] = {}
    n_clients, n_models = asyncio.run(_state())
    if n_clients == 0:
        t = time.perf_counter()
        asyncio.run(generate_to_db(clients, months, seed, url=url, show_progress=show_progress))
        timings["generate_seconds"] = round(time.perf_counter() - t, 1)
    if n_models == 0:
        t = time.perf_counter()
        params = HybridParams(iterations_any=100, iterations_which=100) if quick_models else None
        asyncio.run(train_and_save(url, params=params))
        timings["train_seconds"] = round(time.perf_counter() - t, 1)
    return timings


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for the API a benchmark starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def recsys(*args: str) -> list[str]:
    """argv of a `recsys` sub-command run with this interpreter (no installed script needed)."""
    return [sys.executable, "-m", "cli.main", *args]
