"""The deployment files, checked without a container engine: the Dockerfile passes hadolint, the compose
file validates against the Compose specification, and what both name (commands, port, environment
variables, roles) exists in the code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
CODE = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "core").rglob("*.py"))


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is a dev dependency (uv sync installs it)"
    return found


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)


def test_dockerfile_passes_hadolint() -> None:
    done = _run(_tool("hadolint"), "--failure-threshold", "info", "Dockerfile")
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_file_follows_the_compose_specification() -> None:
    done = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def _stages() -> list[str]:
    return re.findall(r"^FROM\s+(\S+)", DOCKERFILE, re.MULTILINE)


def _pinned(image: str) -> bool:
    # An exact release tag (PostgreSQL's are major.minor, others x.y.z) or a digest; never `latest`
    # or a bare major.
    return "@sha256:" in image or bool(re.search(r":\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$", image))


def test_image_is_multi_stage_pinned_non_root_with_the_ui_inside() -> None:
    stages = _stages()
    assert len(stages) >= 2
    assert all(_pinned(image) for image in stages), stages
    final = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    user = re.findall(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("0", "root"), "the runtime stage must run as a non-root user"
    assert re.search(r"^COPY --from=ui .*frontend/dist /app/frontend/dist$", final, re.MULTILINE)
    # core/app.py serves the UI from <repo root>/frontend/dist, and the image keeps the repo at /app.
    assert 'FRONTEND_DIST = ROOT / "frontend" / "dist"' in (ROOT / "core" / "app.py").read_text(encoding="utf-8")
    assert "uv sync --frozen --no-dev" in DOCKERFILE


def _env_names(text: str) -> set[str]:
    return set(re.findall(r"\b((?:HUIJIA|DATABASE|REDIS)_[A-Z_]+)\b", text))


def test_every_variable_the_files_set_is_read_by_the_code() -> None:
    compose_text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    named = _env_names(DOCKERFILE) | _env_names(compose_text)
    # Set for the compose file itself or the postgres init script, not read by Huijia.
    outside = {"HUIJIA_IMAGE_TAG", "HUIJIA_PUBLISH", "HUIJIA_OWNER_DB_PASSWORD", "HUIJIA_APP_DB_PASSWORD"}
    missing = sorted(n for n in named - outside if f'"{n}"' not in CODE)
    assert not missing, f"not read anywhere in core: {missing}"
    init = (ROOT / "deploy" / "postgres-init.sh").read_text(encoding="utf-8")
    assert {"HUIJIA_OWNER_DB_PASSWORD", "HUIJIA_APP_DB_PASSWORD"} <= _env_names(init)


def test_services_commands_ports_and_order() -> None:
    from core.cli import build_parser

    services = COMPOSE["services"]
    assert {"postgres", "redis", "migrate", "api", "worker"} <= set(services)
    assert all(_pinned(services[s]["image"]) for s in ("postgres", "redis"))
    parser = build_parser()
    commands = {"api": ["huijia", "serve"], "worker": ["huijia", "worker"]}
    for name, expected in commands.items():
        assert services[name]["command"] == expected
        parser.parse_args(expected[1:])
    migrate = services["migrate"]["command"][-1]
    for step in migrate.split("&&"):
        words = step.split()
        assert words[0] == "huijia"
        parser.parse_args(words[1:])
    assert "huijia migrate" in migrate and "tenants sync" in migrate
    for name in ("api", "worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"

    # The api publishes the port the image's HUIJIA_PORT makes `huijia serve` listen on.
    port = re.search(r"HUIJIA_PORT=(\d+)", DOCKERFILE)
    assert port and re.search(rf"^EXPOSE {port.group(1)}$", DOCKERFILE, re.MULTILINE)
    assert all(p.endswith(f":{port.group(1)}") for p in services["api"]["ports"])
    assert "/health" in DOCKERFILE and '@get("/health"' in CODE


def test_roles_as_the_operations_guide_sets_them_up() -> None:
    env = COMPOSE["services"]["api"]["environment"]
    migrate_env = COMPOSE["services"]["migrate"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://huijia_app:")
    assert migrate_env["DATABASE_OWNER_URL"].startswith("postgresql://huijia_owner:")
    assert "DATABASE_OWNER_URL" not in env, "the servers must not get the owner role"
    assert env["HUIJIA_ENV"] == "production"
    init = (ROOT / "deploy" / "postgres-init.sh").read_text(encoding="utf-8")
    for role in ("huijia_owner", "huijia_app"):
        assert re.search(rf"CREATE ROLE {role} LOGIN .*NOSUPERUSER NOBYPASSRLS", init)
    assert "OWNER huijia_owner" in init


@pytest.mark.parametrize("secret", ["HUIJIA_SECRET_KEY", "HUIJIA_PII_KEYS", "HUIJIA_PII_INDEX_KEYS"])
def test_secrets_are_required_never_defaulted(secret: str) -> None:
    value = COMPOSE["services"]["api"]["environment"][secret]
    assert value.startswith(f"${{{secret}:?"), f"{secret} must come from the operator's environment"
    assert secret not in DOCKERFILE


UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def _unit(path: Path) -> dict[str, list[str]]:
    """``Key`` -> values (a key may repeat, e.g. ExecStart of a oneshot)."""
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_units_run_existing_commands_as_a_service_user() -> None:
    from core.cli import build_parser

    assert {u.name for u in UNITS} == {"huijia-api.service", "huijia-worker.service", "huijia-migrate.service"}
    parser = build_parser()
    for path in UNITS:
        unit = _unit(path)
        assert unit["User"] == ["huijia"], path.name
        assert "/etc/huijia/huijia.env" in unit["EnvironmentFile"]
        for cmd in unit["ExecStart"]:
            words = cmd.split()
            assert words[0].endswith("/huijia")
            parser.parse_args(words[1:])
    api, worker, migrate = (_unit(ROOT / "deploy" / "systemd" / f"huijia-{n}.service") for n in ("api", "worker", "migrate"))
    assert api["ExecStart"] == ["/opt/huijia/.venv/bin/huijia serve"]
    assert worker["ExecStart"] == ["/opt/huijia/.venv/bin/huijia worker"]
    assert "huijia-migrate.service" in api["Requires"][0] and "huijia-migrate.service" in worker["Requires"][0]
    assert "/etc/huijia/migrate.env" in migrate["EnvironmentFile"]
    assert "/etc/huijia/migrate.env" not in api["EnvironmentFile"] + worker["EnvironmentFile"]
    example = (ROOT / "deploy" / "systemd" / "huijia.env.example").read_text(encoding="utf-8")
    assert not sorted(n for n in _env_names(example) if f'"{n}"' not in CODE)


def test_systemd_units_pass_systemd_analyze() -> None:
    done = _run(shutil.which("systemd-analyze") or "systemd-analyze", "verify", *map(str, UNITS))
    # The only complaint allowed on a development machine: the installed command is not there.
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if line.strip() and "/opt/huijia/.venv/bin/huijia is not executable" not in line]
    assert not problems, problems
