"""The release workflow ships both forms of Angie on a tag: the binary and the container image.

No runner is needed: the workflow is parsed and checked for what a release relies on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / ".github" / "workflows" / "release.yml"


def _workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _job(name: str) -> dict[str, Any]:
    job = _workflow()["jobs"][name]
    assert isinstance(job, dict)
    return job


def _uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if str(step.get("uses", "")).startswith(action + "@")]


def test_release_runs_on_version_tags_only() -> None:
    # YAML 1.1 reads the bare key `on` as True.
    triggers = _workflow().get("on", _workflow().get(True))
    assert triggers == {"push": {"tags": ["v*"]}}


def test_release_grants_nothing_by_default() -> None:
    assert _workflow()["permissions"] == {}


def test_binary_job_builds_smokes_and_attaches_the_binary() -> None:
    job = _job("binary")
    assert job["permissions"] == {"contents": "write"}
    runs = [str(step.get("run", "")) for step in job["steps"]]
    build = next(i for i, run in enumerate(runs) if run.strip() == "make build")
    smoke = next(i for i, run in enumerate(runs) if "make smoke" in run)
    assert build < smoke
    (release,) = _uses(job, "softprops/action-gh-release")
    assert "dist/angie-*-linux-*" in release["with"]["files"]
    assert release["with"]["fail_on_unmatched_files"] is True


def test_image_job_may_push_packages_and_read_the_code_only() -> None:
    assert _job("image")["permissions"] == {"contents": "read", "packages": "write"}


def test_image_job_checks_the_image_before_pushing_it_to_ghcr() -> None:
    job = _job("image")
    (login,) = _uses(job, "docker/login-action")
    assert login["with"]["registry"] == "ghcr.io"
    assert login["with"]["password"] == "${{ secrets.GITHUB_TOKEN }}"
    builds = _uses(job, "docker/build-push-action")
    assert [bool(step["with"].get("push")) for step in builds] == [False, True]
    assert all(step["with"]["file"] == "docker/Dockerfile" for step in builds)
    steps = job["steps"]
    checks = steps[steps.index(builds[0]) + 1 : steps.index(builds[1])]
    commands = "\n".join(str(step.get("run", "")) for step in checks)
    # Every built-in server's command runs in the image, and compose accepts the file.
    assert 'angie-mcp-${name//_/-}" --help' in commands
    assert "docker compose config --quiet" in commands
    (meta,) = _uses(job, "docker/metadata-action")
    assert meta["with"]["images"] == "ghcr.io/${{ github.repository }}"
    assert builds[1]["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
