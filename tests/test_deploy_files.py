"""The deployment files (compose, Dockerfile, .env.example, workflows) keep their promises.

No Docker engine is needed: the files are parsed and checked for what a deploy relies on.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from angie.settings import SECRETS_DIR, AngieSettings, load_settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
WORKFLOWS = ROOT / ".github" / "workflows"

ONE_SHOT = frozenset({"migrate"})
ANGIE_SERVICES = ("migrate", "api", "worker", "daemon")
REQUIRED_SERVICES = frozenset({"mysql", "redis", "migrate", "api", "worker", "daemon"})
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY")
# ${NAME}, ${NAME:-default}, ${NAME:?message}, … and bare $NAME; `$$` is a literal dollar.
_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?[^}]*\}")
_BARE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_ENV_LINE = re.compile(r"^\s*(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
_PLACEHOLDER = re.compile(r"^(<[^>]*>|changeme|change-me|replace-me|\.\.\.)$", re.IGNORECASE)


def _is_secret_name(name: str) -> bool:
    return any(word in name for word in SECRET_WORDS)


@cache
def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _strings(node: object) -> list[str]:
    """Every key and value of a parsed YAML document that compose would interpolate."""
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def _compose_references() -> list[tuple[str, str | None]]:
    """Every variable the compose file interpolates, with its operator (`:?`, `:-`, … or None).

    Read from the parsed document, so comments (which compose never interpolates) don't count.
    """
    references: list[tuple[str, str | None]] = []
    for text in _strings(_compose()):
        literal_free = text.replace("$$", "")
        references += [(m.group(1), m.group(2)) for m in _BRACED.finditer(literal_free)]
        bare = _BRACED.sub("", literal_free)
        references += [(m.group(1), None) for m in _BARE.finditer(bare)]
    return references


@cache
def _env_example() -> dict[str, str]:
    """Names documented in .env.example (set or commented out) and their example values."""
    entries: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ENV_LINE.match(line)
        if match:
            entries[match.group(1)] = match.group(2).strip().strip("\"'")
    return entries


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _base_images() -> list[str]:
    """The FROM images that are not earlier stages, with global ARG defaults substituted."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    images: list[str] = []
    seen_from = False
    for keyword, arguments in _dockerfile_instructions():
        if keyword == "ARG" and not seen_from and "=" in arguments:
            name, _, default = arguments.partition("=")
            args[name.strip()] = default.strip().strip("\"'")
        if keyword != "FROM":
            continue
        seen_from = True
        words = [w for w in arguments.split() if not w.startswith("--")]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
        if image.lower() not in stages:
            images.append(image)
    return images


def _workflow(name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _ci_test_job() -> dict[str, Any]:
    job = _workflow("ci.yml")["jobs"]["test"]
    assert isinstance(job, dict)
    return job


# --- docker-compose.yml ------------------------------------------------------------------------


def test_compose_file_parses_to_services() -> None:
    assert isinstance(_compose().get("services"), dict)


def test_compose_defines_every_angie_service() -> None:
    assert set(_services()) >= REQUIRED_SERVICES


def test_compose_long_running_services_have_a_healthcheck() -> None:
    missing = [
        name
        for name, service in _services().items()
        if name not in ONE_SHOT and not service.get("healthcheck", {}).get("test")
    ]
    assert missing == []


def test_compose_one_shot_migrate_disables_the_image_healthcheck() -> None:
    assert _services()["migrate"]["healthcheck"] == {"disable": True}


def test_compose_long_running_services_restart() -> None:
    wrong = {
        name: service.get("restart")
        for name, service in _services().items()
        if name not in ONE_SHOT and service.get("restart") not in {"unless-stopped", "always"}
    }
    assert wrong == {}


def test_compose_migrate_runs_once() -> None:
    migrate = _services()["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate.get("restart", "no") == "no"


def test_compose_angie_services_wait_for_migrations() -> None:
    waiting = {
        name: _services()[name]["depends_on"]["migrate"]["condition"]
        for name in ("api", "worker", "daemon")
    }
    assert set(waiting.values()) == {"service_completed_successfully"}


def test_compose_daemon_runs_exactly_one_replica() -> None:
    assert _services()["daemon"]["deploy"]["replicas"] == 1


def test_compose_volumes_are_declared_named_volumes() -> None:
    declared = set(_compose().get("volumes") or {})
    used: set[str] = set()
    for service in _services().values():
        for volume in service.get("volumes", []):
            source = volume.get("source") if isinstance(volume, dict) else volume.split(":")[0]
            used.add(str(source))
    assert used
    assert used <= declared


def test_compose_has_one_network_every_service_joins() -> None:
    networks = list(_compose().get("networks") or {})
    assert len(networks) == 1
    outside = [name for name, s in _services().items() if list(s.get("networks", [])) != networks]
    assert outside == []


def test_compose_api_port_is_published_on_loopback_only() -> None:
    ports = _services()["api"]["ports"]
    assert ports
    assert all(str(port).startswith("127.0.0.1:") for port in ports)


def test_compose_publishes_no_port_but_the_api() -> None:
    publishing = {name for name, service in _services().items() if service.get("ports")}
    assert publishing == {"api"}


def test_compose_variables_are_documented_in_env_example() -> None:
    undocumented = {name for name, _ in _compose_references()} - set(_env_example())
    assert undocumented == set()


def test_compose_secrets_are_required_with_the_colon_question_form() -> None:
    optional = {name for name, op in _compose_references() if _is_secret_name(name) and op != ":?"}
    assert optional == set()


def _mounted_secrets(service: dict[str, Any]) -> dict[str, str]:
    """A service's secrets: {declared name: file name under /run/secrets}."""
    mounted: dict[str, str] = {}
    for entry in service.get("secrets", []):
        if isinstance(entry, dict):
            mounted[str(entry["source"])] = str(entry.get("target", entry["source"]))
        else:
            mounted[str(entry)] = str(entry)
    return mounted


def test_compose_angie_services_read_dot_env_when_there_is_one() -> None:
    env_files = {name: _services()[name].get("env_file") for name in ANGIE_SERVICES}
    assert env_files == {name: [{"path": ".env", "required": False}] for name in ANGIE_SERVICES}


def test_compose_gives_dot_env_to_angie_services_only() -> None:
    # The MCP servers have env files of their own (tests/test_packaging_compose.py), never .env.
    given = {
        name
        for name, s in _services().items()
        if any(entry.get("path") == ".env" for entry in s.get("env_file") or [])
    }
    assert given == set(ANGIE_SERVICES)


def test_compose_secret_key_is_a_docker_secret_not_an_environment_variable() -> None:
    for name in ANGIE_SERVICES:
        service = _services()[name]
        assert _mounted_secrets(service)["angie_secret_key"] == "angie_secret_key", name
        assert "ANGIE_SECRET_KEY" not in service.get("environment", {}), name


def test_compose_secrets_are_declared_as_files_outside_the_image() -> None:
    declared = _compose()["secrets"]
    mounted = {secret for s in _services().values() for secret in _mounted_secrets(s)}
    assert mounted <= set(declared)
    assert {name: spec["file"] for name, spec in declared.items()} == {
        name: f"./secrets/{name}" for name in declared
    }
    dockerignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "secrets" in dockerignore


def test_compose_secrets_mounted_in_angie_are_named_after_her_settings() -> None:
    # Besides her settings, the MCP servers' bearer tokens (angie_<server>_token).
    settings = {f"angie_{field}" for field in AngieSettings.model_fields}
    for name in ANGIE_SERVICES:
        mounted = set(_mounted_secrets(_services()[name]).values()) - settings
        assert all(re.fullmatch(r"angie_[a-z_]+_token", secret) for secret in mounted), name


def test_compose_environment_holds_no_secret_value() -> None:
    literal = {
        (name, key)
        for name, service in _services().items()
        for key, value in dict(service.get("environment") or {}).items()
        if _is_secret_name(key) and not re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", str(value))
    }
    assert literal == set()


def test_a_docker_secret_file_gives_angie_her_secret_key(tmp_path: Path, data_dir: Path) -> None:
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    key = "k" * 48
    (secrets / "angie_secret_key").write_text(key + "\n", encoding="utf-8")

    settings = load_settings(None, secrets_dir=secrets, data_dir=data_dir, env="production")

    assert settings.secret == key
    assert not (data_dir / "secret_key").exists()


def test_the_environment_wins_over_a_docker_secret_file(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "angie_secret_key").write_text("f" * 48, encoding="utf-8")
    monkeypatch.setenv("ANGIE_SECRET_KEY", "e" * 48)

    assert load_settings(None, secrets_dir=tmp_path, data_dir=data_dir).secret == "e" * 48


def test_no_secrets_folder_means_no_secret_files(tmp_path: Path, data_dir: Path) -> None:
    settings = load_settings(None, secrets_dir=tmp_path / "absent", data_dir=data_dir)

    assert settings.secret == (data_dir / "secret_key").read_text(encoding="utf-8")


def test_angie_reads_secret_files_where_compose_mounts_them() -> None:
    # Compose (without swarm) bind-mounts each secret at /run/secrets/<target>.
    assert Path("/run/secrets") == SECRETS_DIR


# --- .env.example ------------------------------------------------------------------------------


def test_env_example_documents_every_angie_setting() -> None:
    expected = {f"ANGIE_{field.upper()}" for field in AngieSettings.model_fields}
    assert expected - set(_env_example()) == set()


def test_env_example_holds_no_real_looking_secret() -> None:
    real = {
        name
        for name, value in _env_example().items()
        if _is_secret_name(name) and value and not _PLACEHOLDER.match(value)
    }
    assert real == set()


# --- docker/Dockerfile -------------------------------------------------------------------------


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = [arguments.split(":")[0] for keyword, arguments in _final_stage() if keyword == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}


def test_dockerfile_has_a_healthcheck() -> None:
    checks = [arguments for keyword, arguments in _final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/api/health" in checks[0]


def test_dockerfile_installs_only_from_the_lock() -> None:
    syncs = [
        arguments for keyword, arguments in _dockerfile_instructions() if "uv sync" in arguments
    ]
    assert syncs
    assert all("--frozen" in arguments for arguments in syncs)


def test_dockerfile_installs_every_workspace_member_with_the_builtin_mcp_servers() -> None:
    syncs = [
        arguments for keyword, arguments in _dockerfile_instructions() if "uv sync" in arguments
    ]
    assert syncs
    assert all(
        "--all-packages" in arguments and "--package" not in arguments.split()
        for arguments in syncs
    )


def test_dockerfile_base_images_are_python_3_13() -> None:
    images = _base_images()
    assert images
    # Node only builds the web UI in a stage of its own; what runs is Python 3.13.
    assert all(image.startswith(("python:3.13", "node:")) for image in images)
    assert any(image.startswith("python:3.13") for image in images)


def test_the_image_carries_the_built_web_ui() -> None:
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert "npm ci" in text
    assert "COPY --from=web /app/orchestrator/src/angie/web/dist" in text


# --- .github/workflows -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_workflow_parses_with_triggers_and_jobs(name: str) -> None:
    workflow = _workflow(name)
    # YAML 1.1 reads the bare key `on` as True.
    assert workflow.get("on", workflow.get(True))
    assert workflow["jobs"]


def test_ci_test_job_has_mysql_and_redis_services() -> None:
    services = _ci_test_job()["services"]
    assert services["mysql"]["image"].startswith("mysql:8")
    assert services["redis"]["image"].startswith("redis:7")
    assert all("--health-cmd" in service["options"] for service in services.values())


def test_ci_test_job_runs_make_test() -> None:
    runs = [step.get("run", "") for step in _ci_test_job()["steps"]]
    assert any(run.strip() == "make test" for run in runs)


# --- .ci/run ------------------------------------------------------------------------------------


def test_ci_script_smoke_tests_the_binary_after_building_it() -> None:
    commands = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ]
    assert commands.index("make smoke") > commands.index("make build")
