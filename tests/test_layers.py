"""Angie's layers, checked from the source: no imports that run back up between the big units
(api, daemon, services, accounts, worker, tasks, workflows, agents, live), and agents that know
nothing of what drives them."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "orchestrator" / "src" / "angie"

# The units whose imports must form no cycle; ``angie.services`` builds them all, and
# ``angie.worker`` dispatches tasks to workflows and agents, so it sits above them.
UNITS = (
    "api",
    "daemon",
    "services",
    "accounts",
    "worker",
    "tasks",
    "workflows",
    "agents",
    "live",
)
# What the agents must not reach: everything that drives them.
ABOVE_AGENTS = ("worker", "workflows", "api", "daemon", "cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(tree: ast.Module, module: str, is_package: bool) -> Iterable[str]:
    """Every module this one imports. All imports count: at module level, under
    ``if TYPE_CHECKING:`` and inside functions, since a deferred import is still a dependency
    (it only hides a cycle from the interpreter, not from the design)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            # ``from angie import live`` names a module, not an attribute.
            yield from (f"{target}.{alias.name}" for alias in node.names)


def _unit(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "angie":
        return None
    return parts[1]


def _is_unit(name: str) -> bool:
    return (ROOT / name).is_dir() or (ROOT / f"{name}.py").is_file()


def unit_graph() -> dict[str, set[str]]:
    """Which top-level units of ``angie`` import which (``angie.tasks.service`` → ``tasks``)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        source = _unit(module)
        if source is None:
            continue
        tree = ast.parse(path.read_text(), str(path))
        edges = graph.setdefault(source, set())
        for target in _imported(tree, module, path.name == "__init__.py"):
            unit = _unit(target)
            if unit is not None and unit != source and _is_unit(unit):
                edges.add(unit)
    return graph


def find_cycle(graph: dict[str, set[str]], nodes: Iterable[str]) -> list[str] | None:
    """A cycle among ``nodes`` (through those nodes only) as a path, or None."""
    allowed = set(nodes)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, set()) & allowed):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(allowed):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_graph_sees_every_unit() -> None:
    graph = unit_graph()
    assert set(UNITS) <= set(graph)
    assert "tasks" in graph["worker"]  # the walk finds real edges


def test_no_cycle_between_the_layers() -> None:
    """The API and the daemon hang off the composition root (``angie.services``), not off each
    other; the store, the engine, the agents, the bus and the worker import one way."""
    cycle = find_cycle(unit_graph(), UNITS)
    assert cycle is None, "imports run in a circle: " + " -> ".join(cycle or ())


def test_agents_import_nothing_that_drives_them() -> None:
    reached = sorted(unit_graph()["agents"] & set(ABOVE_AGENTS))
    assert not reached, f"angie.agents imports {', '.join(reached)}"


def test_find_cycle_reports_the_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph, "abcd") == ["a", "b", "c", "a"]
    assert find_cycle(graph, "abd") is None
