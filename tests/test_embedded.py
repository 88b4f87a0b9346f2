"""The embedded PostgreSQL: one server per state folder, stopped when its last user exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil

from core.db.embedded import socket_host
from core.settings import Settings
from tests.conftest import remove_home, scratch_home


def _postgres_for(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        cmd = proc.info.get("cmdline") or []
        if proc.info.get("name") == "postgres" and any(str(pgdata) in part for part in cmd):
            found.append(proc)
    return found


def _url_in_subprocess(home: Path) -> str:
    env = {**os.environ, "RECSYS_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "url"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_two_state_folders_never_share_a_server_and_servers_stop() -> None:
    a, b = scratch_home("rsa-"), scratch_home("rsb-")
    try:
        _separate_servers(a, b)
    finally:
        remove_home(a)
        remove_home(b)


def _separate_servers(a: Path, b: Path) -> None:
    url_a, url_b = _url_in_subprocess(a), _url_in_subprocess(b)
    assert url_a.endswith("/recsys?host=" + socket_host(url_a))
    assert socket_host(url_a) != socket_host(url_b)
    assert socket_host(url_a).startswith(str(a)) and socket_host(url_b).startswith(str(b))
    # The CLI process was the only user: its exit stopped the server.
    assert _postgres_for(a / "pgdata") == []
    assert _postgres_for(b / "pgdata") == []


def test_database_url_setting_wins(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from core.db.urls import resolve_database_url

    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example:5433/bank")
    assert resolve_database_url(Settings()) == "postgresql://u:p@db.example:5433/bank"
    monkeypatch.setenv("DATABASE_URL", "mysql://u@h/db")
    try:
        resolve_database_url(Settings())
    except ValueError as exc:
        assert "DATABASE_URL" in str(exc)
    else:
        raise AssertionError("a non-PostgreSQL URL must be refused")
