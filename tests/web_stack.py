"""Processes for the browser tests: the GraphQL API, the outbox relay, a worker and the
Reflex app (production build, one port), each a real subprocess with its log under
.artifacts/logs; plus the one-time installs (bun from npm, Debian chromium + chromedriver)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools"
BUN_BIN = TOOLS / "web" / "node_modules" / ".bin"
# The tests build the app in their own folder: a developer's `reflex run` (.web/) is untouched.
WEB_WORKDIR = TOOLS / "web-e2e"


def artifacts() -> Path:
    return Path(os.environ.get("RECSYS_ARTIFACTS", ROOT / ".artifacts"))


def install_tools() -> None:
    """bun (npm registry) and chromium + chromedriver (apt-get) when missing; fails loudly."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "install_web_tools.sh"), "--browser"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"scripts/install_web_tools.sh --browser failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )


def _npm_registry() -> str | None:
    npm = shutil.which("npm")
    if not npm:
        return None
    try:
        out = subprocess.run([npm, "config", "get", "registry"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = out.stdout.strip()
    return value if value.startswith("http") else None


def web_env(api_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": f"{BUN_BIN}:{os.environ.get('PATH', '')}",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_WEB_WORKDIR": str(WEB_WORKDIR / ".web"),
        "REFLEX_STATES_WORKDIR": str(WEB_WORKDIR / ".states"),
        "RECSYS_API_URL": api_url,
        "PYTHONUNBUFFERED": "1",
    }
    if "NPM_CONFIG_REGISTRY" not in env and (registry := _npm_registry()):
        env["NPM_CONFIG_REGISTRY"] = registry  # skips Reflex's probe of a second registry
    return env


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, n: int = 40) -> str:
        try:
            lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])


@dataclass
class Stack:
    """Started processes, stopped newest first; `describe` shows every log's tail."""

    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> Proc:
        logs = artifacts() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def check_alive(self) -> None:
        for p in self.procs:
            if p.popen.poll() is not None:
                raise RuntimeError(f"{p.name} exited with {p.popen.returncode}:\n{p.tail()}")

    def describe(self) -> str:
        return "\n".join(f"--- {p.name} ({p.log}) ---\n{p.tail(25)}" for p in self.procs)

    def stop(self, proc: Proc | None = None) -> None:
        for p in [proc] if proc else list(reversed(self.procs)):
            if p.popen.poll() is None:
                try:
                    os.killpg(p.popen.pid, 15)
                except ProcessLookupError:
                    continue
        for p in [proc] if proc else list(reversed(self.procs)):
            try:
                p.popen.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.popen.pid, 9)
                p.popen.wait(10)

    def wait_http(self, url: str, ok: Callable[[httpx.Response], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                response = httpx.get(url, timeout=5, follow_redirects=True)
                if ok(response):
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.5)
        raise TimeoutError(f"{what} not ready after {timeout:.0f}s ({last})\n{self.describe()}")


def recsys(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


def reflex_argv(port: int) -> list[str]:
    reflex = shutil.which("reflex", path=str(Path(sys.executable).parent)) or "reflex"
    return [
        reflex,
        "run",
        "--env",
        "prod",
        "--single-port",
        "--frontend-port",
        str(port),
        "--backend-port",
        str(port),
        "--loglevel",
        "info",
    ]
