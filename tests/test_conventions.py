"""What every MCP server folder must have, checked here so a new integration is right by
construction: package names, console script, manifest and its entry point, README tools table,
py.typed, settings prefix, tests, and honest tool annotations."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from angie.agents import fleet
from angie.agents.fleet import FLEET_AGENTS
from angie.mcp.manifests import discover
from angie.prompts import PromptLibrary, prompts_dir
from angie_mcp_core.manifest import ENTRY_POINT_GROUP, ServerManifest
from angie_mcp_core.settings import ServerSettings

ROOT = Path(__file__).resolve().parents[1]
SERVERS = sorted(
    p.name for p in (ROOT / "mcp_servers").iterdir() if p.is_dir() and p.name != "_core"
)
TABLE_HEADER = re.compile(
    r"^\|\s*tool\s*\|\s*what it does\s*\|\s*read-only or destructive\s*\|\s*required settings\s*\|",
    re.MULTILINE,
)


# What a manifest may import: discovering the servers must not load any server's machinery.
MANIFEST_IMPORTS = {"__future__", "angie_mcp_core.manifest"}


def project(name: str) -> dict[str, Any]:
    data = tomllib.loads((ROOT / "mcp_servers" / name / "pyproject.toml").read_text())
    meta: dict[str, Any] = data["project"]
    return meta


def settings_class(name: str) -> type[ServerSettings]:
    module = importlib.import_module(f"angie_mcp_{name}.settings")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServerSettings)
        and value is not ServerSettings
        and value.__module__ == module.__name__
    ]
    assert len(found) == 1, f"angie_mcp_{name}.settings must define one ServerSettings subclass"
    return found[0]


async def tools(name: str) -> list[Any]:
    server = importlib.import_module(f"angie_mcp_{name}.server")
    settings = settings_class(name)(_env_file=None)
    async with Client(server.build(settings)) as client:
        return list(await client.list_tools())


def test_there_are_servers() -> None:
    assert {"hue", "home_assistant", "spotify", "github"} <= set(SERVERS)


@pytest.mark.parametrize("name", SERVERS)
def test_distribution_and_console_script_are_named_after_the_folder(name: str) -> None:
    dist = f"angie-mcp-{name.replace('_', '-')}"
    meta = project(name)
    assert meta["name"] == dist
    assert meta["scripts"] == {dist: f"angie_mcp_{name}.__main__:main"}
    # The kit, or the kit with an extra of its own (angie-mcp-core[google]).
    assert any(d.split("[")[0] == "angie-mcp-core" for d in meta["dependencies"])
    assert not any(d.startswith("angie ") or d == "angie" for d in meta["dependencies"])


# Every server has these, so each one reads like the others (more files are welcome).
PACKAGE_FILES = (
    "__init__.py",
    "__main__.py",
    "manifest.py",
    "settings.py",
    "client.py",
    "server.py",
    "models.py",
    "testing.py",
    "py.typed",
)
# Servers whose vendor speaks a mail protocol, not HTTP: their tests run against real servers
# (Dovecot and aiosmtpd, tests/fakes/mail_servers.py) instead of a FakeService in testing.py.
REAL_SERVERS = {"yahoo": "MailServers"}
FOLDER_FILES = (
    "README.md",
    "requirements.txt",
    "tests/conftest.py",
    "tests/test_client.py",
    "tests/test_server.py",
)


@pytest.mark.parametrize("name", SERVERS)
def test_package_is_typed_and_has_tests(name: str) -> None:
    folder = ROOT / "mcp_servers" / name
    assert (folder / "src" / f"angie_mcp_{name}" / "py.typed").is_file()
    assert list((folder / "tests").glob("test_*.py")), f"{name} has no tests"


@pytest.mark.parametrize("name", SERVERS)
def test_every_server_has_the_same_files(name: str) -> None:
    folder = ROOT / "mcp_servers" / name
    package = folder / "src" / f"angie_mcp_{name}"
    expected = [f for f in PACKAGE_FILES if not (f == "testing.py" and name in REAL_SERVERS)]
    missing = [f for f in expected if not (package / f).is_file()]
    missing += [f for f in FOLDER_FILES if not (folder / f).is_file()]
    assert not missing, f"mcp_servers/{name} lacks {', '.join(missing)}"


@pytest.mark.parametrize("name", SERVERS)
def test_the_fake_vendor_is_built_on_the_kits_fake_service(name: str) -> None:
    from angie_mcp_core.fakes import FakeService

    if name in REAL_SERVERS:
        tests = "".join(p.read_text() for p in (ROOT / "mcp_servers" / name / "tests").glob("*.py"))
        assert REAL_SERVERS[name] in tests, f"{name}'s tests do not use the real servers"
        return
    testing = importlib.import_module(f"angie_mcp_{name}.testing")
    fakes = [
        value
        for value in vars(testing).values()
        if isinstance(value, type) and issubclass(value, FakeService) and value is not FakeService
    ]
    assert fakes, f"angie_mcp_{name}.testing has no FakeService"


@pytest.mark.parametrize("name", SERVERS)
def test_settings_use_the_servers_own_prefix(name: str) -> None:
    prefix = settings_class(name).model_config.get("env_prefix")
    assert prefix == f"ANGIE_{name.upper()}_"


@pytest.mark.parametrize("name", SERVERS)
def test_server_is_known_to_angie_and_the_type_checker(name: str) -> None:
    assert discover()[name].module == f"angie_mcp_{name}"
    mypy_path = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["mypy_path"]
    assert f"mcp_servers/{name}/src" in mypy_path


@pytest.mark.parametrize("name", SERVERS)
async def test_every_tool_has_a_docstring_and_honest_hints(name: str) -> None:
    for tool in await tools(name):
        assert len(tool.description or "") > 20, f"{name}.{tool.name}: describe it"
        hints = tool.annotations
        assert hints is not None, f"{name}.{tool.name}: no annotations"
        assert hints.read_only_hint is not None, f"{name}.{tool.name}: set readOnlyHint"
        assert hints.destructive_hint is not None, f"{name}.{tool.name}: set destructiveHint"
        read_only_and_destructive = hints.read_only_hint and hints.destructive_hint
        assert not read_only_and_destructive, f"{name}.{tool.name}: read-only cannot destroy"


@pytest.mark.parametrize("name", SERVERS)
async def test_readme_has_the_tools_table_with_every_tool(name: str) -> None:
    readme = (ROOT / "mcp_servers" / name / "README.md").read_text()
    assert TABLE_HEADER.search(readme), f"{name}/README.md needs the tools table"
    for tool in await tools(name):
        assert re.search(rf"^\|\s*`?{tool.name}`?", readme, re.MULTILINE), (
            f"{name}/README.md: the tools table lacks {tool.name}"
        )


@pytest.mark.parametrize("name", SERVERS)
def test_readme_states_the_python_its_uvx_recipes_need(name: str) -> None:
    # Without --python, uvx runs the default python3 or downloads one (offline, that fails).
    readme = (ROOT / "mcp_servers" / name / "README.md").read_text()
    required = project(name)["requires-python"]
    minimum = re.fullmatch(r">=\s*(\d+\.\d+)", required)
    assert minimum, f"{name}: requires-python {required!r} is not a plain >=X.Y"
    version = minimum.group(1)
    assert f"Python {version}" in readme, f"{name}/README.md does not say it needs Python {version}"
    commands = re.findall(r"\buvx [^\n]*", readme)  # a command line, not `uvx` in prose
    configs = re.findall(r'"command":\s*"uvx",\s*"args":\s*\[([^\]]*)\]', readme)
    assert commands or configs, f"{name}/README.md has no uvx recipe"
    assert [c for c in commands if f"uvx --python {version} " not in c] == []
    assert [a for a in configs if not a.startswith(f'"--python", "{version}",')] == []


def manifest(name: str) -> ServerManifest:
    found = importlib.import_module(f"angie_mcp_{name}.manifest").MANIFEST
    assert isinstance(found, ServerManifest)
    return found


@pytest.mark.parametrize("name", SERVERS)
def test_manifest_is_registered_under_the_folders_name(name: str) -> None:
    points = project(name).get("entry-points", {}).get(ENTRY_POINT_GROUP)
    assert points == {name: f"angie_mcp_{name}.manifest:MANIFEST"}
    assert manifest(name).name == name


@pytest.mark.parametrize("name", SERVERS)
def test_manifest_matches_the_settings_and_describes_the_agent(name: str) -> None:
    found = manifest(name)
    assert found.env_prefix == settings_class(name).model_config.get("env_prefix")
    assert found.scope in {"household", "personal"}
    assert found.content_trust in {"trusted", "untrusted"}
    assert found.description.strip()
    assert PromptLibrary(prompts_dir()).source(found.prompt).strip()
    # Angie blanks these for a person's own instance: they must be the settings' own.
    settings = settings_class(name)
    assert found.typed_credentials == settings.typed_credentials
    assert set(found.typed_credentials) <= set(settings.model_fields)
    if found.typed_credentials:
        assert found.scope == "personal"
        assert "token_file" in settings.model_fields


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("TOKEN", "short", "a bearer token needs at least 16 characters"),
        ("ALLOWED_ORIGINS", "evil.example", "'evil.example' is not an origin"),
    ],
)
@pytest.mark.parametrize("name", SERVERS)
def test_a_bad_setting_is_one_line_and_exit_code_2_from_the_console_script(
    name: str, setting: str, value: str, says: str, tmp_path: Path
) -> None:
    script = Path(sys.executable).with_name(f"angie-mcp-{name.replace('_', '-')}")
    variable = f"ANGIE_{name.upper()}_{setting}"
    env = {
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
        variable: value,
        # phue (the Hue SDK) warns about its own code whenever Python compiles it.
        "PYTHONWARNINGS": "ignore::SyntaxWarning",
    }
    done = subprocess.run(
        [str(script), "--transport", "http"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"{script.name}: error: {variable}: {says}")


@pytest.mark.parametrize("name", SERVERS)
def test_manifest_imports_only_the_kits_manifest(name: str) -> None:
    path = ROOT / "mcp_servers" / name / "src" / f"angie_mcp_{name}" / "manifest.py"
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}/manifest.py: import {node.module} absolutely"
            imported.add(str(node.module))
    assert imported <= MANIFEST_IMPORTS, f"{name}/manifest.py imports {imported - MANIFEST_IMPORTS}"


def test_the_kits_manifest_imports_only_the_standard_library() -> None:
    path = ROOT / "mcp_servers" / "_core" / "src" / "angie_mcp_core" / "manifest.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            )
            for imported in names:
                top = str(imported).split(".")[0]
                assert top == "__future__" or top in sys.stdlib_module_names, imported


def test_discovering_the_servers_loads_no_server_machinery() -> None:
    # A fresh interpreter: this one has long imported fastmcp and every vendor SDK.
    code = (
        "import sys\n"
        "from importlib.metadata import entry_points\n"
        f"[p.load() for p in entry_points(group={ENTRY_POINT_GROUP!r})]\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    foreign = {
        m for m in loaded if m not in sys.stdlib_module_names and not m.startswith("angie_mcp_")
    }
    assert not {m for m in foreign if not m.startswith("_")}, foreign
    assert {f"angie_mcp_{name}" for name in SERVERS} <= loaded


@pytest.mark.parametrize("name", SERVERS)
def test_the_fleets_entry_for_a_server_agrees_with_its_manifest(name: str) -> None:
    # The fleet seeds a server's agent where the package is not installed (another container).
    # Filtered agents (one per tool group of Angie's own server) describe their group.
    entry = next((a for a in FLEET_AGENTS if a.servers == (name,) and not a.tool_filter), None)
    if entry is None:
        return
    found = manifest(name)
    assert (entry.description, entry.servers) == (found.description, (name,))
    assert entry.prompt_path == found.prompt


def test_each_server_has_one_agent_of_its_own() -> None:
    # A server the fleet names an agent for (calendar → gcal) is seeded under that name once.
    # (Angie's own server has one agent per tool group, each with its filter.)
    own = [a.servers[0] for a in fleet.seed_agents() if len(a.servers) == 1 and not a.tool_filter]
    assert sorted(own) == sorted(set(own))
    names = {a.name: a.servers for a in fleet.seed_agents()}
    assert names["calendar"] == ("gcal",)
    assert "gcal" not in names
    # A mailbox is worked by the shared mail agents, not an agent of its own.
    assert "yahoo" not in names
    assert "yahoo" in names["email"]
    assert names["spam"] == ("spam", "gmail", "outlook", "yahoo")


def test_an_uninstalled_servers_agent_is_still_seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet, "discover", dict)
    assert {"hue", "github", "email"} <= {a.name for a in fleet.seed_agents()}


# Imports every module of a server as the pre-forked launcher does (``__main__`` included), in a
# fresh interpreter whose environment records what is read and whose file opens are audited,
# with every one of the server's settings set to a sentinel. Then it looks at what the imported
# modules hold: a settings object, or the sentinel anywhere in their globals (a value read, a
# copy of the whole environment). A server that read its settings or token file at import time
# would hand the launcher, which imports every server once, one server's credentials, and the
# forks would keep them.
SENTINEL = "set-to-see-who-reads-it"
_IMPORT_PROBE = """
import os, pkgutil, importlib, sys, json
PREFIX, STATE, PACKAGE, SENTINEL = sys.argv[1:5]
read = []
class Recording(os._Environ):
    def __getitem__(self, key):
        # Reading one variable by name, not walking them all (every pydantic-settings class,
        # fastmcp's own included, copies the whole environment when made).
        walking = sys._getframe(1).f_code.co_name == "__iter__"
        if isinstance(key, str) and key.startswith(PREFIX) and not walking:
            read.append(key)
        return super().__getitem__(key)
env = os.environ
os.environ = Recording(env._data, env.encodekey, env.decodekey, env.encodevalue, env.decodevalue)
from pydantic_settings import BaseSettings
from angie_mcp_core.settings import ServerSettings
made = ServerSettings.__init__
def recording_init(self, *args, **kwargs):
    read.append(type(self).__name__ + "()")
    made(self, *args, **kwargs)
ServerSettings.__init__ = recording_init
opened = []
def audit(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].startswith(STATE):
        opened.append(args[0])
sys.addaudithook(audit)
package = importlib.import_module(PACKAGE)
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if not info.name.endswith(".testing"):  # the fakes, which the launcher never imports
        importlib.import_module(info.name)

def holds(value, depth=0):
    # The sentinel in a value, a container of them, or an object's attributes (two levels).
    if isinstance(value, str):
        return SENTINEL in value
    if isinstance(value, BaseSettings):
        return True
    if depth > 2 or isinstance(value, type) or type(value).__module__ == "builtins" and not \
            isinstance(value, (dict, list, tuple, set, frozenset)):
        return False
    if isinstance(value, dict):
        return any(holds(k, depth + 1) or holds(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(holds(v, depth + 1) for v in value)
    attributes = getattr(value, "__dict__", None)
    return isinstance(attributes, dict) and holds(attributes, depth + 1)

kept = sorted(
    f"{name}.{attribute}"
    for name, module in list(sys.modules.items())
    if name == PACKAGE or name.startswith(PACKAGE + ".")
    for attribute, value in list(vars(module).items())
    if not attribute.startswith("__") and not callable(value) and holds(value)
)
print(json.dumps({"read": sorted(set(read)), "opened": sorted(set(opened)), "kept": kept}))
"""


def imported_with_sentinels(
    package: str, prefix: str, fields: list[str], tmp_path: Path, path: Path | None = None
) -> dict[str, list[str]]:
    """What importing ``package`` read, opened (under its data dir, ``tmp_path/state``, where
    it runs) and kept of its settings, each set to the sentinel."""
    import json
    import os

    state = tmp_path / "state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANGIE_")}
    env.update({f"{prefix}{field.upper()}": SENTINEL for field in fields})
    env["ANGIE_DATA_DIR"] = str(state)
    if path is not None:
        env["PYTHONPATH"] = str(path)
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, prefix, str(state), package, SENTINEL],
        capture_output=True, text=True, check=False, env=env, cwd=state, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize("name", SERVERS)
def test_a_server_reads_no_credentials_when_imported(name: str, tmp_path: Path) -> None:
    settings = settings_class(name)
    prefix = settings.model_config.get("env_prefix") or f"ANGIE_{name.upper()}_"
    found = imported_with_sentinels(
        f"angie_mcp_{name}", prefix, list(settings.model_fields), tmp_path
    )
    assert found == {"read": [], "opened": [], "kept": []}, f"angie_mcp_{name} at import: {found}"


# Servers that get their settings at import, each in its own way; the last one waits for main().
_LEAKY = {
    "reads_one": "import os\nTOKEN = os.environ.get('ANGIE_LEAKY_TOKEN')\n",
    "copies_all": "import os\nSNAPSHOT = dict(os.environ)\n",
    "makes_its_settings": (
        "from pydantic_settings import SettingsConfigDict\n"
        "from angie_mcp_core.settings import ServerSettings\n"
        "class LeakySettings(ServerSettings):\n"
        "    model_config = SettingsConfigDict(env_prefix='ANGIE_LEAKY_')\n"
        "SETTINGS = LeakySettings()\n"
    ),
    "makes_plain_settings": (
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n"
        "class Plain(BaseSettings):\n"
        "    model_config = SettingsConfigDict(env_prefix='ANGIE_LEAKY_')\n"
        "    token: str = ''\n"
        "class Holder:\n"
        "    def __init__(self):\n"
        "        self.settings = Plain()\n"
        "HOLDER = Holder()\n"
    ),
    "opens_its_token_file": (
        "import os\nfrom pathlib import Path\n"
        "try:\n    open(Path(os.getcwd(), 'token.json'))\nexcept OSError:\n    pass\n"
    ),
    "waits_for_main": ("import os\ndef main():\n    return os.environ.get('ANGIE_LEAKY_TOKEN')\n"),
}


@pytest.mark.parametrize("variant", sorted(_LEAKY))
def test_the_import_probe_catches_a_server_that_reads_its_settings_at_import(
    variant: str, tmp_path: Path
) -> None:
    package = tmp_path / "src" / "angie_mcp_leaky"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A server that should not be."""\n')
    (package / "__main__.py").write_text(_LEAKY[variant])
    found = imported_with_sentinels(
        "angie_mcp_leaky", "ANGIE_LEAKY_", ["token"], tmp_path, path=tmp_path / "src"
    )
    caught = {k: v for k, v in found.items() if v}
    expected = {
        "reads_one": {"read": ["ANGIE_LEAKY_TOKEN"], "kept": ["angie_mcp_leaky.__main__.TOKEN"]},
        "copies_all": {
            "read": ["ANGIE_LEAKY_TOKEN"],
            "kept": ["angie_mcp_leaky.__main__.SNAPSHOT"],
        },
        "makes_its_settings": {
            "read": ["LeakySettings()"],
            "kept": ["angie_mcp_leaky.__main__.SETTINGS"],
        },
        "makes_plain_settings": {"kept": ["angie_mcp_leaky.__main__.HOLDER"]},
        "opens_its_token_file": {"opened": [str(tmp_path / "state" / "token.json")]},
        "waits_for_main": {},
    }
    assert caught == expected[variant]
