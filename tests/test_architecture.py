"""The shape of bot/: no import cycles between packages or between modules, and nothing registers on import.

Every module under bot/ is parsed with `ast` (nothing is imported). What counts as an import:

- between packages: every `import`/`from ... import` anywhere in a module: at module level, inside
  `if TYPE_CHECKING:` blocks and inside functions. A lazy import is still a dependency (it only moves the
  cost to the call), and a type-only one still couples the two packages;
- between modules: module-level imports, `if TYPE_CHECKING:` blocks included (a cycle there is the
  coupling this test exists to catch, whether or not it breaks at runtime), but not imports inside
  functions: those are how a command loads its services only when it runs, and within a package they
  are a module's own business.

`from bot.x import name` counts as importing `bot.x.name` when that is a module, else `bot.x`; the implicit
import of a module's parent package (`bot.x` runs `bot/x/__init__.py`) is not counted, as usual.

The nodes of the package graph: each feature package (bot.people, bot.nudges, ...), bot.slack,
bot.outbox and bot.migrations as one node each; each core module (bot.clock, bot.jobs, bot.server, ...)
and bot.wiring as its own node. bot.cli is the exception: its modules are nodes of their own, because
it holds three layers in one folder: `bot.cli.context` (what every command shares: below every feature's
cli module), the commands that belong to no feature (`bot.cli.tick`, `serve`, `db`, `content`: beside
them), and `bot.cli` itself, the entry point (`main`), the one module above `bot.wiring`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import pytest

from bot import wiring

BOT = Path(__file__).resolve().parent.parent / "bot"
PACKAGES = {
    "people",
    "nudges",
    "pulses",
    "wins",
    "broadcasts",
    "digest",
    "metrics",
    "usage",
    "forget",
    "demo",
    "dashboard",
    "scim",
    "outbox",
    "slack",
    "migrations",
}
FEATURES = {
    "people",
    "nudges",
    "pulses",
    "wins",
    "broadcasts",
    "digest",
    "metrics",
    "usage",
    "forget",
    "demo",
    "dashboard",
    "scim",
}
Graph = Mapping[str, Iterable[str]]


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules(root: Path = BOT) -> dict[str, Path]:
    return {_module_name(root, path): path for path in sorted(root.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(root: Path, module: str, path: Path, node: ast.Import | ast.ImportFrom) -> set[str]:
    modules = _modules(root)
    found: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in modules:  # `import bot.x.y` names bot.x.y
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
        return found
    if node.level:  # relative: from the module's own package
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:
            found.add(f"{base}.{alias.name}")
        elif base in modules:
            found.add(base)
    return found


@cache
def _imports(module: str, root: Path = BOT) -> tuple[frozenset[str], frozenset[str]]:
    """(module-level imports, TYPE_CHECKING included; every import anywhere in the module), within bot/."""
    path = _modules(root)[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top: set[str] = set()
    everywhere: set[str] = set()

    def visit(nodes: Iterable[ast.stmt], at_top: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found = _imported(root, module, path, node) - {module}
                everywhere.update(found)
                if at_top:
                    top.update(found)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for block in ("body", "orelse", "finalbody", "handlers"):
                    children = getattr(node, block, [])
                    if block == "handlers":
                        for handler in children:
                            visit(handler.body, at_top)
                    else:
                        visit(children, at_top)
            else:
                for child in ast.walk(node):
                    if isinstance(child, ast.Import | ast.ImportFrom):
                        everywhere.update(_imported(root, module, path, child) - {module})

    visit(tree.body, True)
    return frozenset(top), frozenset(everywhere)


def node_of(module: str) -> str:
    """The package-graph node a module belongs to (see the module docstring)."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in PACKAGES:
        return ".".join(parts[:2])
    return module  # core modules, bot.wiring, and each module of bot.cli


def package_graph(root: Path = BOT) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in _modules(root):
        source = node_of(module)
        graph.setdefault(source, set())
        for target in _imports(module, root)[1]:
            if node_of(target) != source:
                graph[source].add(node_of(target))
    return graph


def module_graph(root: Path = BOT) -> dict[str, set[str]]:
    return {module: set(_imports(module, root)[0]) for module in _modules(root)}


def find_cycle(graph: Graph) -> list[str] | None:
    """A cycle of `graph` as a path `[a, b, ..., a]`, or None when it has none."""
    edges = {node: sorted(targets) for node, targets in graph.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in edges.get(node, []):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def _why(graph_kind: str, cycle: list[str]) -> str:
    return f"import cycle between {graph_kind}: " + " -> ".join(cycle)


# --- the cycle finder itself -----------------------------------------------------------------------------


def test_the_cycle_finder_names_a_cycle_and_passes_a_graph_without_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set(), "d": {"a"}}) is None  # a diamond
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y"}}) == ["y", "y"]
    assert find_cycle({"core": set(), "f": {"core", "g"}, "g": {"f"}}) == ["f", "g", "f"]


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / "bot" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    for folder in (root / "bot").rglob("*"):
        if folder.is_dir() and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("")
    (root / "bot" / "__init__.py").touch()
    return root / "bot"


def test_cycles_written_in_source_are_found(tmp_path: Path) -> None:
    """The same reading of the source, on a small synthetic tree: a lazy import inside a function makes a
    cycle between packages, a TYPE_CHECKING import one between modules; the clean tree has neither."""
    clean = {
        "clock.py": "import datetime\n",
        "slack/scope.py": "from bot import clock\n",
        "people/listeners.py": "from bot.slack.scope import Scope\nfrom . import service\n",
        "people/service.py": "from bot.clock import utcnow\n",
        "demo/org.py": "from bot.demo.context import DemoContext\n",
        "demo/context.py": "X = 1\n",
        "demo/service.py": "from bot.demo import context, org\n",
    }
    root = _tree(tmp_path / "clean", clean)
    assert package_graph(root)["bot.people"] == {"bot.slack", "bot.clock"}
    assert module_graph(root)["bot.people.listeners"] == {"bot.slack.scope", "bot.people.service"}
    assert find_cycle(package_graph(root)) is None and find_cycle(module_graph(root)) is None

    lazy = clean | {"slack/scope.py": "def scope():\n    from bot.people.listeners import on_open\n"}
    root = _tree(tmp_path / "lazy", lazy)
    assert find_cycle(package_graph(root)) == ["bot.people", "bot.slack", "bot.people"]
    assert find_cycle(module_graph(root)) is None  # inside a function: not a module-level import

    type_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.demo.service import Ctx\n"
    typed = clean | {"demo/org.py": type_only}
    root = _tree(tmp_path / "typed", typed)
    assert find_cycle(module_graph(root)) == ["bot.demo.org", "bot.demo.service", "bot.demo.org"]


# --- bot/ --------------------------------------------------------------------------------------------------


def test_the_packages_import_each_other_without_a_cycle() -> None:
    graph = package_graph()
    assert {"bot.people", "bot.slack", "bot.outbox", "bot.cli", "bot.cli.context", "bot.jobs"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, _why("packages", cycle)


def test_the_modules_import_each_other_without_a_cycle() -> None:
    cycle = find_cycle(module_graph())
    assert cycle is None, _why("modules", cycle)


def test_only_the_entry_point_imports_the_wiring() -> None:
    importers = {m for m in _modules() if "bot.wiring" in _imports(m)[1]}
    assert importers == {"bot.cli"}


def test_the_core_imports_no_feature() -> None:
    """Features build on the core, the Slack runtime and the outbox; never the other way round."""
    below = {node for node in package_graph() if node_of(node) == node}
    below -= {"bot.wiring", "bot.cli", "bot.cli.content", "bot.cli.db", "bot.cli.serve", "bot.cli.tick"}
    below -= {f"bot.{feature}" for feature in FEATURES}
    graph = package_graph()
    reaching = {
        node: sorted(t for t in graph[node] if t.removeprefix("bot.") in FEATURES)
        for node in sorted(below)
        if any(t.removeprefix("bot.") in FEATURES for t in graph[node])
    }
    assert reaching == {}


# Feature modules that talk to the Slack API themselves: Bolt listeners (they answer the interaction at
# hand: ack, respond, open a modal) and the directory sync, which reads `users.list` and posts nothing.
# Everything a feature sends to Slack goes through bot.outbox.
# Listeners and events are Bolt's; the directory sync reads Slack's users; the dashboard's sign-in asks
# Slack's OpenID Connect methods who signed in, and its `web` module mounts it on the Bolt app's server;
# SCIM's `slack_link` looks a provisioned person up by email (reads only).
SLACK_API_ALLOWED = {"listeners", "events", "slack_sync", "signin", "web", "slack_link"}


def _third_party_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_features_reach_slack_only_through_the_outbox_and_their_listeners() -> None:
    offenders = sorted(
        module
        for module, path in _modules().items()
        if module.split(".")[1:2]
        and module.split(".")[1] in FEATURES
        and module.rsplit(".", 1)[-1] not in SLACK_API_ALLOWED
        and _third_party_imports(path) & {"slack_sdk", "slack_bolt"}
    )
    assert offenders == []


def test_importing_every_module_registers_nothing() -> None:
    """No registration by import side effect: with every module of bot/ imported, and the wiring not
    called, there is no job, no outbox hook and no demo step."""
    names = [m for m in _modules() if not m.startswith("bot.migrations") and m != "bot.__main__"]
    script = (
        "import importlib\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "from bot import jobs\n"
        "from bot.demo import service as demo\n"
        "from bot.outbox import store\n"
        "print(jobs.registered_jobs(), store._hooks, demo.DEMO_STEPS, demo.REPORT_SECTIONS)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] {} [] []"


@pytest.mark.parametrize(
    "lazy",
    [job for _, job in wiring.JOBS]
    + [hook for _, hook in wiring.OUTBOX_HOOKS]
    + list(wiring.DEMO_STEPS)
    + [render for _, render in wiring.DEMO_SECTIONS],
    ids=repr,
)
def test_everything_the_wiring_names_exists(lazy: wiring.Lazy) -> None:
    assert callable(lazy.resolve())
