"""`recsys up` (what `make run` ends with): starts the system, serves, and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.events.broker import embedded_broker_running
from tests.conftest import remove_home, scratch_home

pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_up_serves_the_api_with_relay_and_worker_then_stops_everything(trained_db: str) -> None:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("checks the embedded broker's life cycle")
    home = scratch_home("rsu-")
    try:
        _up_serves_and_stops(home, trained_db)
    finally:
        remove_home(home)


def _up_serves_and_stops(home: Path, trained_db: str) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "RECSYS_HOME": str(home),
        "DATABASE_URL": trained_db,
        "API_PORT": str(port),
        "DEMO_LOGIN": "true",
        "RELAY_METRICS_PORT": str(_free_port()),
        "WORKER_METRICS_PORT": str(_free_port()),
    }
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    out = home / "up.log"
    with open(out, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "up", "--no-web", "--no-evaluate"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline, ready = time.monotonic() + 180, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert ready is not None and ready.json() == {
            "ready": True,
            "checks": {"database": "ok", "broker": "ok"},
        }, out.read_text(errors="replace")[-3000:]
        assert embedded_broker_running(home) is not None
        for name in ("relay", "worker-1", "api"):
            assert (home / "logs" / f"{name}.log").exists(), name
        # "up" is said once every service answers (GraphiQL too), not when processes start.
        deadline = time.monotonic() + 60
        while "RecSys31 is up" not in out.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.5)
        text = out.read_text(errors="replace")
        assert "RecSys31 is up" in text and text.index("waiting for") < text.index("RecSys31 is up"), text
        # The worker serves its metrics on WORKER_METRICS_PORT (+0 for the first worker).
        deadline, metrics = time.monotonic() + 60, ""
        while "recsys_worker_batch_seconds" not in metrics and time.monotonic() < deadline:
            try:
                metrics = httpx.get(f"http://127.0.0.1:{env['WORKER_METRICS_PORT']}/metrics", timeout=2).text
            except httpx.HTTPError:
                time.sleep(0.5)
        assert "recsys_worker_batch_seconds" in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(90)
    assert code == 0, out.read_text(errors="replace")[-3000:]
    assert "stopped" in out.read_text(errors="replace")
    assert embedded_broker_running(home) is None  # it started the broker, so it stopped it


def test_evaluate_if_missing_keeps_a_stored_evaluation(db_url: str) -> None:
    """What `recsys up` runs in the background: nothing when an evaluation is stored."""
    import asyncio

    import asyncpg

    async def _store() -> int:
        conn = await asyncpg.connect(db_url)
        try:
            return int(
                await conn.fetchval(
                    "INSERT INTO model_run (kind, version, params, metrics) "
                    "VALUES ('evaluation', 'kept', '{}', '{\"strategies\": {}}') RETURNING id"
                )
            )
        finally:
            await conn.close()

    run_id = asyncio.run(_store())
    env = {**os.environ, "DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "evaluate", "--if-missing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"an evaluation is stored (model run {run_id}); nothing to do" in done.stderr
