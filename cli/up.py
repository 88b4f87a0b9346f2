"""`recsys up`: run the whole system in the foreground (what `make run` ends with).

Starts (or finds) the embedded PostgreSQL and broker when no external ones are configured,
creates the topics, then supervises the processes: outbox relay, worker(s), GraphQL API and
the Reflex web app. Ctrl-C (or SIGTERM) stops them all cleanly, newest first; if one dies
the others are stopped too and its exit code is returned, so a broken start is visible.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from cli.common import console, fail

ROOT = Path(__file__).resolve().parents[1]


def _recsys(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


def up(
    workers: int = typer.Option(1, "--workers", min=1, max=16, help="Worker processes (one consumer group)."),
    web: bool = typer.Option(True, "--web/--no-web", help="Also run the Reflex web app."),
    demo_login: bool = typer.Option(True, "--demo-login/--no-demo-login", help="Allow demo logins."),
) -> None:
    """Run relay, worker(s), API and web app on the configured (or embedded) database and broker."""
    from core.db.session import database_url
    from core.events.broker import (
        embedded_broker_running,
        ensure_topics,
        resolve_bootstrap,
        stop_embedded_broker,
    )
    from core.settings import get_settings

    settings = get_settings()
    url = database_url(settings)
    # The embedded broker outlives its starter (processes share it); stop it at the end only
    # when this command started it.
    own_broker = not settings.kafka_bootstrap_servers and embedded_broker_running(settings.home) is None
    bootstrap = resolve_bootstrap(settings)
    from cli.common import run

    run(ensure_topics(bootstrap))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "RECSYS_HOME": str(settings.home),
        "DEMO_LOGIN": "true" if demo_login else os.environ.get("DEMO_LOGIN", "false"),
        "PYTHONUNBUFFERED": "1",
    }
    specs: list[tuple[str, list[str], Path | None]] = [("relay", _recsys("relay"), None)]
    specs += [(f"worker-{i + 1}", _recsys("worker"), None) for i in range(workers)]
    specs.append(("api", _recsys("api"), None))
    if web:
        tools = ROOT / "scripts" / "install_web_tools.sh"
        if tools.exists():
            subprocess.run(["bash", str(tools)], check=True)
        bun_dir = ROOT / ".tools" / "web" / "node_modules" / ".bin"
        env["PATH"] = f"{bun_dir}:{env.get('PATH', '')}"
        env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
        reflex = shutil.which("reflex", path=str(Path(sys.executable).parent)) or "reflex"
        specs.append(("web", [reflex, "run", "--env", "dev", "--loglevel", "warning"], ROOT))

    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for name, argv, cwd in specs:
        with open(logs / f"{name}.log", "ab") as out:
            procs.append(
                (name, subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT))
            )
    console.print(f"database {url.split('@')[-1]}, broker {bootstrap}, logs in {logs}")
    console.print(
        f"[bold green]RecSys31 is up[/]: GraphQL http://{settings.api_host}:{settings.api_port}/graphql"
        + ("   web http://localhost:3000" if web else "")
        + "   (Ctrl-C stops everything)"
    )
    code = 0
    while not stopping:
        for name, p in procs:
            if p.poll() is not None:
                console.print(f"[red]{name} exited with {p.returncode}[/]; see {logs / (name + '.log')}")
                code, stopping = p.returncode or 1, True
                break
        time.sleep(0.5)
    for _, p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 30
    for _, p in reversed(procs):
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
    if own_broker:
        stop_embedded_broker(settings.home)
    console.print("stopped")
    if code:
        fail("a process of the system exited early", code=code)
