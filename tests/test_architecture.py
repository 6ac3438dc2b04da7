"""The import architecture of DESIGN §1, checked on the source.

Floors, from the ground up: projects and mailer; reports; advisories; inbox and api. An app
imports only apps on lower floors (projects may also import mailer beside it, never the other
way round). disclosure/ is the glue on top: it may import anything, and nothing but its own
modules and manage.py imports it. No import cycles between modules, not even inside one app.

The graph is built from the AST of every first-party module (migrations, tests and benchmarks are
not part of the architecture). Every `import` and `from ... import` statement counts, wherever it
is written: an import inside a function still makes a dependency, it only hides the cycle from
Python until the function runs. Only imports under `if TYPE_CHECKING:` are left out, since they
never run. An edge goes to the module the statement loads:
- `import a.b` -> a.b; `import a` -> a (the package's __init__);
- `from a import b` -> a.b when a/b.py (or a/b/) is a module, else a (b is a name in a's __init__);
- `from a.b import name` -> a.b;
- relative imports are resolved against the importing module's package first.
A first-party name with no file behind it (an app not created yet) keeps its dotted name, so the
floors still apply to it. Imports through strings (importlib, INSTALLED_APPS) are not edges.

The self-tests at the end run the checker on a small package tree written to tmp_path, so that
the real checks cannot pass because the checker sees nothing.
"""

import ast
import importlib
from collections import deque
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# The first-party packages, whether they exist yet or not; manage.py is the module "manage".
APP_PACKAGES = (
    "disclosure",
    "projects",
    "mailer",
    "reports",
    "advisories",
    "inbox",
    "api",
    "webhooks",
)
ENTRY_MODULE = "manage"
GLUE = "disclosure"
FIRST_PARTY = frozenset((*APP_PACKAGES, ENTRY_MODULE))
NOT_ARCHITECTURE = frozenset(("migrations", "tests", "benchmarks", "__pycache__"))

# DESIGN §1: projects, mailer <- reports <- advisories <- inbox, api, webhooks.
FLOORS = {
    "projects": 0,
    "mailer": 0,
    "reports": 1,
    "advisories": 2,
    "inbox": 3,
    "api": 3,
    "webhooks": 3,
}
# Apps on the same floor stay apart, except: projects sends end-of-support notices through mailer.
SIDEWAYS_ALLOWED = frozenset({("projects", "mailer")})


# --- Building the graph -------------------------------------------------------------------------


def discover_modules(root=REPO_ROOT):
    """Every first-party module under root, as {dotted name: file}; packages by their __init__."""
    modules = {}
    if (root / f"{ENTRY_MODULE}.py").is_file():
        modules[ENTRY_MODULE] = root / f"{ENTRY_MODULE}.py"
    for package in APP_PACKAGES:
        if not (root / package / "__init__.py").is_file():
            continue  # an app that does not exist (yet)
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).with_suffix("")
            if NOT_ARCHITECTURE.intersection(relative.parts):
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            modules[".".join(parts)] = path
    return modules


def is_type_checking(test):
    """True for the guard `TYPE_CHECKING` or `typing.TYPE_CHECKING`."""
    name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
    return name == "TYPE_CHECKING"


def import_statements(tree):
    """Every Import/ImportFrom node anywhere in the tree, except under `if TYPE_CHECKING:`."""
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and is_type_checking(node.test):
            pending.extend(node.orelse)  # the else branch does run
        else:
            pending.extend(ast.iter_child_nodes(node))


def first_party_target(name, modules):
    """The module that importing `name` loads: the longest prefix that is a module on disk.

    A first-party name with no module behind it keeps its name; a third-party name gives None.
    """
    parts = name.split(".")
    if parts[0] not in FIRST_PARTY:
        return None
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in modules:
            return prefix
    return name


def from_import_base(module, path, node):
    """The absolute module name of `from <base> import ...`, relative imports resolved."""
    if node.level == 0:
        return node.module
    package = module.split(".")
    if path.name != "__init__.py":
        package = package[:-1]  # a plain module's package is its parent
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, node.module] if node.module else package)


def imported_modules(module, path, modules):
    """The first-party modules that `module` imports (see the module docstring for the rules)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    targets = set()
    for node in import_statements(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = from_import_base(module, path, node)
            # `from a import b` loads the submodule a.b when there is one, else reads a name of a.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        targets.update(first_party_target(name, modules) for name in names)
    targets.discard(None)
    return targets


def build_import_graph(root=REPO_ROOT):
    """{module: set of first-party modules it imports} for every first-party module under root."""
    modules = discover_modules(root)
    return {module: imported_modules(module, path, modules) for module, path in modules.items()}


# --- Cycles -------------------------------------------------------------------------------------


def strongly_connected_components(graph):
    """Tarjan's algorithm: the SCCs of the graph, each a set of modules."""
    index, lowlink, on_stack, stack, components = {}, {}, set(), [], []

    def visit(node):
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                lowlink[node] = min(lowlink[node], lowlink[successor])
            elif successor in on_stack:
                lowlink[node] = min(lowlink[node], index[successor])
        if lowlink[node] == index[node]:  # node is the root of a component: pop it off
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def shortest_path(graph, start, goal, within):
    """The shortest path start -> ... -> goal through modules of `within` (BFS), as a list."""
    came_from = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = came_from[node]
            return path[::-1]
        for successor in sorted(graph.get(node, ())):
            if successor in within and successor not in came_from:
                came_from[successor] = node
                queue.append(successor)
    return None


def import_cycles(graph):
    """Each cycle as "a -> b -> a": for every edge inside a strongly connected component, the
    shortest cycle through that edge, so every import that closes a cycle shows up in the list.
    """
    cycles = set()
    for component in strongly_connected_components(graph):
        for source in component:
            for target in graph.get(source, set()) & component:
                loop = [source, *shortest_path(graph, target, source, component)]
                first = loop.index(min(loop[:-1]))  # one rotation per cycle, for the set
                rotated = loop[first:-1] + loop[:first]
                cycles.add(" -> ".join([*rotated, rotated[0]]))
    return sorted(cycles)


# --- Floors -------------------------------------------------------------------------------------


def floor_rule_broken(source, target):
    """The rule that `source` importing `target` breaks, or None when the import is allowed."""
    source_app, target_app = source.split(".")[0], target.split(".")[0]
    if source_app == target_app or source_app in (GLUE, ENTRY_MODULE):
        return None  # the glue and manage.py wire everything
    if target_app == GLUE:
        return f"only {GLUE} itself and manage.py import {GLUE}, the glue"
    if (source_app, target_app) in SIDEWAYS_ALLOWED:
        return None
    if target_app == ENTRY_MODULE:
        return "nothing imports manage.py"
    if FLOORS[target_app] < FLOORS[source_app]:
        return None
    if FLOORS[target_app] == FLOORS[source_app]:
        return f"{source_app} and {target_app} share floor {FLOORS[source_app]}; they stay apart"
    return (
        f"{source_app} (floor {FLOORS[source_app]}) may not import "
        f"{target_app} (floor {FLOORS[target_app]}): imports go down only"
    )


def forbidden_imports(graph):
    """Each import that breaks a floor rule, as "module -> imported module (rule)"."""
    return sorted(
        f"{source} -> {target} ({rule})"
        for source, targets in graph.items()
        for target in targets
        if (rule := floor_rule_broken(source, target))
    )


# --- The checks on the real code ----------------------------------------------------------------


@pytest.fixture(scope="module")
def import_graph():
    return build_import_graph()


def test_every_module_imports():
    """Every first-party module imports under the test settings, from this checkout."""
    failures = []
    for name, path in discover_modules().items():
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # every failure is listed, not just the first
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if Path(module.__file__).resolve() != path.resolve():
            failures.append(f"{name}: imported from {module.__file__}, not {path}")
    assert not failures, "modules that do not import:\n" + "\n".join(failures)


def test_import_graph_is_not_trivial(import_graph):
    """The checks below mean something only if the graph holds the code's real imports."""
    edges = sum(len(targets) for targets in import_graph.values())
    assert len(import_graph) >= 40, sorted(import_graph)
    assert edges >= 60, edges
    assert "projects.models" in import_graph["reports.models"]  # a report belongs to a project
    for package in APP_PACKAGES:
        if (REPO_ROOT / package / "__init__.py").is_file():
            assert package in import_graph, f"{package}/ is missing from the graph"


def test_no_import_cycles(import_graph):
    """No module imports itself through others, not even inside one app or inside a function."""
    cycles = import_cycles(import_graph)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_floors(import_graph):
    """Imports go down the floors of DESIGN §1, and nothing but the glue imports disclosure."""
    forbidden = forbidden_imports(import_graph)
    assert not forbidden, "imports that break the floors:\n" + "\n".join(forbidden)


# --- Self-tests of the checker ------------------------------------------------------------------

FAKE_TREE = {
    "manage.py": "import disclosure\n",
    "disclosure/__init__.py": "from .celery import app\n",
    "disclosure/celery.py": "import os\n",
    "projects/__init__.py": "VERSION = 1\n",
    "projects/models.py": (
        "from typing import TYPE_CHECKING\n"
        "import django.db\n"
        "if TYPE_CHECKING:\n"
        "    from advisories.models import Advisory\n"
        "def open_reports():\n"
        "    from reports import models\n"
        "    return models\n"
    ),
    "projects/notices.py": "from mailer.outbox import send\n",
    "mailer/__init__.py": "",
    "mailer/outbox.py": "from projects import VERSION\nimport api.webhooks\n",
    "reports/__init__.py": "",
    "reports/models.py": "from projects.models import open_reports\n",
    "reports/services.py": "from . import emails\nfrom .models import Report\n",
    "reports/emails.py": (
        "def send():\n"
        "    if True:\n"
        "        from .services import acknowledge\n"
        "    return acknowledge\n"
    ),
    "reports/templatetags/__init__.py": "",
    "reports/templatetags/tags.py": "from ..services import emails\nfrom .. import models\n",
    "reports/migrations/__init__.py": "",
    "reports/migrations/0001_initial.py": "import advisories.models\n",
    "advisories/__init__.py": "",
    "advisories/models.py": "from disclosure.celery import app\nimport reports.models\n",
}


@pytest.fixture
def fake_graph(tmp_path):
    for name, text in FAKE_TREE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return build_import_graph(tmp_path)


def test_graph_of_a_fake_tree(fake_graph):
    assert fake_graph == {
        "manage": {"disclosure"},
        "disclosure": {"disclosure.celery"},
        "disclosure.celery": set(),
        "projects": set(),
        "projects.models": {"reports.models"},  # in a function: counted; TYPE_CHECKING: not
        "projects.notices": {"mailer.outbox"},
        "mailer": set(),
        "mailer.outbox": {"projects", "api.webhooks"},  # api/ does not exist: name kept
        "reports": set(),
        "reports.models": {"projects.models"},
        "reports.services": {"reports.emails", "reports.models"},
        "reports.emails": {"reports.services"},
        "reports.templatetags": set(),
        "reports.templatetags.tags": {"reports.services", "reports.models"},
        "advisories": set(),
        "advisories.models": {"disclosure.celery", "reports.models"},
    }


def test_cycles_of_a_fake_tree(fake_graph):
    assert import_cycles(fake_graph) == [
        "projects.models -> reports.models -> projects.models",
        "reports.emails -> reports.services -> reports.emails",
    ]


def test_cycles_in_a_hand_made_graph():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"b"}, "e": {"e"}, "f": {"a"}}
    assert import_cycles(graph) == ["a -> b -> c -> a", "b -> c -> d -> b", "e -> e"]


def test_floors_of_a_fake_tree(fake_graph):
    assert forbidden_imports(fake_graph) == [
        "advisories.models -> disclosure.celery "
        "(only disclosure itself and manage.py import disclosure, the glue)",
        "mailer.outbox -> api.webhooks "
        "(mailer (floor 0) may not import api (floor 3): imports go down only)",
        "mailer.outbox -> projects (mailer and projects share floor 0; they stay apart)",
        "projects.models -> reports.models "
        "(projects (floor 0) may not import reports (floor 1): imports go down only)",
    ]
