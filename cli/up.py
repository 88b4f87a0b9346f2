"""`recsys up`: run the whole system in the foreground (what `make run` ends with).

Starts (or finds) the embedded PostgreSQL and broker when no external ones are configured,
creates the topics, then supervises the processes: outbox relay, worker(s), GraphQL API and
the Reflex web app. "RecSys31 is up" is printed once every service answers (the API's
/readyz, GraphiQL, the web app), not when the processes were merely started. Ctrl-C (or
SIGTERM) stops them all cleanly, newest first; if one dies the others are stopped too and
its exit code is returned, so a broken start is visible.

Work the first screens do not need runs after the system is up, once, in the background
(niced): the offline evaluation of every strategy (`recsys evaluate`, minutes: it retrains
every model for its holdout month) is stored in the database, and the analytics panel shows
it when it is there. A stored evaluation is kept; `recsys evaluate` recomputes it.
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
    evaluate: bool = typer.Option(
        True,
        "--evaluate/--no-evaluate",
        help="Once up, evaluate every strategy in the background if no evaluation is stored yet.",
    ),
    ready_timeout: float = typer.Option(
        900, "--ready-timeout", min=1, help="Seconds to wait for every service to answer."
    ),
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
    specs: list[tuple[str, list[str], Path | None, dict[str, str]]] = [("relay", _recsys("relay"), None, {})]
    specs += [
        (f"worker-{i + 1}", _recsys("worker"), None, _worker_env(settings.worker_metrics_port, i))
        for i in range(workers)
    ]
    specs.append(("api", _recsys("api"), None, {}))
    if web:
        tools = ROOT / "scripts" / "install_web_tools.sh"
        if tools.exists():
            subprocess.run(["bash", str(tools)], check=True)
        bun_dir = ROOT / ".tools" / "web" / "node_modules" / ".bin"
        env["PATH"] = f"{bun_dir}:{env.get('PATH', '')}"
        env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
        reflex = shutil.which("reflex", path=str(Path(sys.executable).parent)) or "reflex"
        specs.append(("web", [reflex, "run", "--env", "dev", "--loglevel", "warning"], ROOT, {}))

    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    started = time.monotonic()
    for name, argv, cwd, extra in specs:
        with open(logs / f"{name}.log", "ab") as out:
            procs.append(
                (
                    name,
                    subprocess.Popen(
                        argv, env={**env, **extra}, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
                    ),
                )
            )
    console.print(f"database {url.split('@')[-1]}, broker {bootstrap}, logs in {logs}")
    api = f"http://{settings.api_host}:{settings.api_port}"
    checks = service_checks(api, web_port() if web else None)
    console.print(f"waiting for {', '.join(checks)} to answer...")
    code, is_up = 0, False
    jobs: list[tuple[str, subprocess.Popen[bytes]]] = []
    while not stopping:
        for name, p in procs:
            if p.poll() is not None:
                console.print(f"[red]{name} exited with {p.returncode}[/]; see {logs / (name + '.log')}")
                code, stopping = p.returncode or 1, True
                break
        if not is_up and not stopping:
            checks = {name: url for name, url in checks.items() if not answers(url)}
            if not checks:
                is_up = True
                console.print(
                    f"[bold green]RecSys31 is up[/] after {time.monotonic() - started:.0f} s: "
                    f"GraphiQL {api}/graphql   ready {api}/readyz"
                    + (f"   web http://localhost:{web_port()}" if web else "")
                    + "   (Ctrl-C stops everything)"
                )
                if evaluate:
                    jobs.append(("evaluate", _background(_recsys("evaluate", "--if-missing"), env, logs)))
            elif time.monotonic() - started > ready_timeout:
                console.print(f"[red]not answering after {ready_timeout:.0f} s[/]: {', '.join(checks)}")
                code, stopping = 1, True
        for name, p in list(jobs):
            if p.poll() is not None:
                jobs.remove((name, p))
                result = "done" if p.returncode == 0 else f"failed ({p.returncode})"
                console.print(f"background {name} {result}; see {logs / (name + '.log')}")
        time.sleep(0.5)
    for _, p in reversed(procs + jobs):
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 30
    for _, p in reversed(procs + jobs):
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
    if own_broker:
        stop_embedded_broker(settings.home)
    console.print("stopped")
    if code:
        fail("a process of the system exited early", code=code)


def _worker_env(base_port: int, index: int) -> dict[str, str]:
    """Worker i serves its metrics on WORKER_METRICS_PORT + i (0 keeps them off)."""
    return {"WORKER_METRICS_PORT": str(base_port + index if base_port else 0)}


def web_port() -> int:
    """The Reflex frontend's port (rxconfig's default, or REFLEX_FRONTEND_PORT)."""
    return int(os.environ.get("REFLEX_FRONTEND_PORT") or os.environ.get("FRONTEND_PORT") or 3000)


def service_checks(api: str, web: int | None) -> dict[str, str]:
    """What must answer before the system counts as up: name -> URL."""
    checks = {"api /readyz": f"{api}/readyz", "GraphiQL": f"{api}/graphql"}
    if web is not None:
        checks["web app"] = f"http://localhost:{web}/"
    return checks


def answers(url: str) -> bool:
    """True when `url` answers 200 to a browser-like GET (GraphiQL is served to text/html)."""
    import httpx

    try:
        return httpx.get(url, timeout=2.0, headers={"Accept": "text/html"}).status_code == 200
    except httpx.HTTPError:
        return False


def _background(argv: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    """A one-shot job at low CPU priority: the running services keep the cores first."""
    name = argv[argv.index("cli.main") + 1]
    with open(logs / f"{name}.log", "ab") as out:
        return subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=lambda: os.nice(10)
        )
