"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per module.

Tests talk to a real server (no mocks). When DATABASE_URL is set (e.g. a CI service) that
server is used instead of the embedded one; each module still gets its own database.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.db import migrate
from core.db.urls import ensure_database, plain_url, run_sync, with_database

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SANTANDER_SAMPLE = SHARED_DATA / "santander" / "train_ver2_sample_10k.csv"


def scratch_home(prefix: str) -> Path:
    """A fresh state folder under /tmp, readable by the embedded PostgreSQL's user.

    Short path: the server's unix socket lives in the data folder (108-byte limit). Whoever
    makes one removes it (`remove_home`): a session's folder holds half a gigabyte of database
    and broker log, and CI machines share /tmp between runs; leaked folders once filled one.
    """
    home = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    home.chmod(0o755)
    return home


def remove_home(home: Path) -> None:
    """Remove a scratch state folder once its servers are stopped."""
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def recsys_home() -> Iterator[Path]:
    """The session's state folder; its database and broker fixtures depend on it, so they are
    stopped before it is removed."""
    home = scratch_home("rs-")
    old = os.environ.get("RECSYS_HOME")
    os.environ["RECSYS_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("RECSYS_HOME", None)
    else:
        os.environ["RECSYS_HOME"] = old
    remove_home(home)


@pytest.fixture(scope="session")
def pg_admin_url(recsys_home: Path) -> Iterator[str]:
    """Admin URL of the server: DATABASE_URL's server, else the embedded one.

    The embedded server is stopped at the end of the session: the package would stop the one
    it started, but the fault tests restart it with pg_ctl, and that one it does not own.
    """
    if os.environ.get("DATABASE_URL"):
        yield with_database(plain_url(os.environ["DATABASE_URL"]), "postgres")
        return
    from core.db.embedded import start_embedded

    yield plain_url(start_embedded(recsys_home))
    import contextlib

    from core.db.embedded import pg_ctl

    with contextlib.suppress(Exception):
        pg_ctl(recsys_home, "-m", "fast", "stop")


def new_database(admin_url: str, label: str) -> str:
    name = "t_" + re.sub(r"[^a-z0-9_]", "_", label.lower())[-40:] + "_" + uuid.uuid4().hex[:6]
    ensure_database(admin_url, name)
    return with_database(admin_url, name)


@pytest.fixture(scope="module")
def db_url(pg_admin_url: str, request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database (with the catalog loaded) for this test module."""
    return migrated_database(pg_admin_url, request.module.__name__)


def migrated_database(pg_admin_url: str, label: str) -> str:
    """A fresh database at the schema's head, with the catalog loaded."""
    url = new_database(pg_admin_url, label)
    migrate.upgrade(url)

    import asyncpg

    from core.catalog import load_catalog
    from core.data.store import upsert_catalog

    async def _catalog() -> None:
        conn = await asyncpg.connect(url)
        try:
            await upsert_catalog(conn, load_catalog())
        finally:
            await conn.close()

    run_sync(_catalog())
    return url


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[object]:
    """An asyncpg connection to the module's database."""
    import asyncpg

    c = await asyncpg.connect(db_url)
    try:
        yield c
    finally:
        await c.close()


@pytest.fixture(scope="session")
def santander_sample() -> Path:
    if not SANTANDER_SAMPLE.exists():
        pytest.skip(f"real Santander sample not found at {SANTANDER_SAMPLE} (../shared/data)")
    return SANTANDER_SAMPLE


@pytest.fixture(scope="session")
def kafka_bootstrap(recsys_home: Path) -> Iterator[str]:
    """A real Kafka-protocol broker with the topics created: KAFKA_BOOTSTRAP_SERVERS's, else
    the embedded one (Tansu), stopped at the end of the session."""
    from core.events.broker import ensure_topics, start_embedded_broker, stop_embedded_broker

    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    bootstrap = external or start_embedded_broker(recsys_home)
    run_sync(ensure_topics(bootstrap))
    yield bootstrap
    if not external:
        stop_embedded_broker(recsys_home)


@pytest.fixture(scope="session")
def trained_db(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small simulated population (1,200 clients x 8 months) with a registered model set
    trained with few iterations: enough for the serving paths (worker, API), fast to build."""
    import asyncpg

    from core.catalog import load_catalog
    from core.data.generate import generate_to_db
    from core.data.store import upsert_catalog
    from core.models.hybrid import HybridParams
    from core.services.training import train_and_save

    url = new_database(pg_admin_url, "trained")
    migrate.upgrade(url)

    async def _build() -> None:
        conn = await asyncpg.connect(url)
        try:
            await upsert_catalog(conn, load_catalog())
        finally:
            await conn.close()
        await generate_to_db(
            1200,
            8,
            seed=11,
            url=url,
            chunk_size=1200,
            truth_dir=tmp_path_factory.mktemp("truth"),
            show_progress=False,
        )
        await train_and_save(
            url,
            params=HybridParams(iterations_any=30, iterations_which=30),
            uplift_params={
                "min_rows": 60,
                "min_conversions": 2,
                "learner": "t",
                "n_estimators": 20,
                "max_depth": 3,
                "threads": 1,
            },
        )

    run_sync(_build())
    return url
