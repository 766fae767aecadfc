"""The shape of ``research/``, read from its source with ``ast`` (nothing is imported).

An import is an edge from the importing module to the imported one: ``from research.x import y``
is an edge to ``research.x.y`` when ``y`` is a submodule, else to ``research.x``; relative
imports are resolved; imports under ``if TYPE_CHECKING:`` are not edges (they never run).
Imports inside a function are edges too (hiding one in a ``def`` does not change the layering)
and are failures of their own: project imports belong at module top.

Failures: an import cycle between modules, or between top-level units (``research/<package>``
or ``research/<module>.py``); an import that breaks the layering below; a function-local
import of a project module (unless in :data:`LOCAL_IMPORTS_ALLOWED`); a module over
:data:`MAX_MODULE_LINES` lines, a function over :data:`MAX_FUNCTION_LINES` lines.

Layering (a layer imports itself and the layers in its last column; :data:`LAYERS`,
:data:`MAY_IMPORT`):

=========  ==============================================================  ======================
layer      units                                                           may import
=========  ==============================================================  ======================
core       research (package), errors, progress, registry, schema, threads (nothing else)
data       research.data                                                   core
nn         research.nn                                                     core, data
train      research.train                                                  core, data, nn
tasks      research.tasks                                                  core, data, nn
track      research.track                                                  core
evolve     research.evolve                                                 core, data, nn, tasks,
                                                                           track
search     research.search                                                 core, data, nn, train,
                                                                           track
report     research.report                                                 core, track, search;
                                                                           report.build: config
config     research.config                                                 core, data, nn, train,
                                                                           track
kinds      research.kinds                                                  every layer above
command    research.run, research.ui, research.report.__main__,            every layer above
           research.search.migrate                                         except research.run
=========  ==============================================================  ======================

So: nn imports no train/track/search/evolve; train no search/evolve/track/config; tasks no
evolve; track no search/evolve/config; search no evolve/config/kinds; evolve no search/config/
kinds; nothing below kinds imports kinds (study schemas are found through
``research.registry.KINDS``, by name); nothing imports ``research.run``. The registry's lazy
loading by import path (strings) is not an import statement and is not read here.

``python tests/test_layers.py`` prints the counts (modules, edges, function-local project
imports, cycles) and every failure.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "research"

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60

#: layer -> the units and modules in it; a module's own entry wins over its package's
LAYERS: dict[str, tuple[str, ...]] = {
    "core": (
        "research",
        "research.errors",
        "research.progress",
        "research.registry",
        "research.schema",
        "research.threads",
    ),
    "data": ("research.data",),
    "nn": ("research.nn",),
    "train": ("research.train",),
    "tasks": ("research.tasks",),
    "track": ("research.track",),
    "evolve": ("research.evolve",),
    "search": ("research.search",),
    "report": ("research.report",),
    "config": ("research.config",),
    "kinds": ("research.kinds",),
    "command": (
        "research.run",
        "research.ui",
        "research.report.__main__",
        "research.search.migrate",
    ),
}

_BELOW_KINDS = ("core", "data", "nn", "train", "tasks", "track", "evolve", "search", "report")

#: layer -> the layers it may import (its own layer always)
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "data": frozenset({"core"}),
    "nn": frozenset({"core", "data"}),
    "train": frozenset({"core", "data", "nn"}),
    "tasks": frozenset({"core", "data", "nn"}),
    "track": frozenset({"core"}),
    "evolve": frozenset({"core", "data", "nn", "tasks", "track"}),
    "search": frozenset({"core", "data", "nn", "train", "track"}),
    "report": frozenset({"core", "track", "search"}),
    "config": frozenset({"core", "data", "nn", "train", "track"}),
    "kinds": frozenset({*_BELOW_KINDS, "config"}),
    "command": frozenset({*_BELOW_KINDS, "config", "kinds", "command"}),
}

#: single modules allowed more than their layer: module -> the extra layers
MODULE_MAY_IMPORT: dict[str, frozenset[str]] = {
    "research.report.build": frozenset({"config"}),
}

#: modules no other module may import, whatever the layers say
NEVER_IMPORTED = frozenset({"research.run"})

#: (importing module, imported module) pairs allowed inside a function; optional extras
#: (torch, cmaes, numba) are not project modules and need no entry
LOCAL_IMPORTS_ALLOWED: frozenset[tuple[str, str]] = frozenset()


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``source`` imports ``target`` at ``line``."""

    source: str
    target: str
    line: int
    local: bool  # inside a function


@dataclass
class Package:
    """What the test reads from a package's source."""

    modules: dict[str, Path] = field(default_factory=dict)  # dotted name -> file
    imports: list[Import] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # module -> line count
    #: (module, qualified name, first line, lines) of every function and method
    functions: list[tuple[str, str, int, int]] = field(default_factory=list)
    backend_calls: list[str] = field(default_factory=list)  # "module:line" of matplotlib.use

    def edges(self) -> dict[str, set[str]]:
        """The module graph: module -> the project modules it imports (itself excluded)."""
        graph: dict[str, set[str]] = {m: set() for m in self.modules}
        for imp in self.imports:
            if imp.target != imp.source:
                graph[imp.source].add(imp.target)
        return graph


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Reader(ast.NodeVisitor):
    """Collects one module's project imports and function sizes."""

    def __init__(self, module: str, is_package: bool, known: set[str], prefix: str):
        self.module, self.is_package, self.known, self.prefix = module, is_package, known, prefix
        self.imports: list[Import] = []
        self.functions: list[tuple[str, int, int]] = []
        self.backend_calls: list[int] = []
        self._scope: list[str] = []
        self._depth = 0  # functions we are inside

    def _project(self, name: str) -> bool:
        return name == self.prefix or name.startswith(self.prefix + ".")

    def _add(self, target: str, node: ast.stmt) -> None:
        if self._project(target):
            self.imports.append(Import(self.module, target, node.lineno, self._depth > 0))

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for stmt in node.orelse:
                self.visit(stmt)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            package = self.module if self.is_package else self.module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{node.module}" if node.module else package
        else:
            base = node.module or ""
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self._add(sub if sub in self.known else base, node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._scope.append(node.name)
        size = node.end_lineno - node.lineno + 1
        self.functions.append((".".join(self._scope), node.lineno, size))
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1
        self._scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        target = func.value if isinstance(func, ast.Attribute) and func.attr == "use" else None
        if isinstance(target, ast.Name) and target.id == "matplotlib":
            self.backend_calls.append(node.lineno)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()


def read_package(root: Path, package: str = PACKAGE) -> Package:
    """Every module under ``root/package``: its imports of the package, line and function sizes."""
    found = Package()
    for path in sorted((root / package).rglob("*.py")):
        found.modules[module_name(path, root)] = path
    known = set(found.modules)
    for name, path in found.modules.items():
        text = path.read_text(encoding="utf-8")
        found.lines[name] = len(text.splitlines())
        reader = _Reader(name, path.name == "__init__.py", known, package)
        reader.visit(ast.parse(text, filename=str(path)))
        found.imports += reader.imports
        found.functions += [(name, *fn) for fn in reader.functions]
        found.backend_calls += [f"{name}:{line}" for line in reader.backend_calls]
    return found


# -- judging -------------------------------------------------------------------------------


def unit_of(module: str) -> str:
    """``research.search.driver`` -> ``research.search``; ``research.config`` stays."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def unit_edges(pkg: Package) -> dict[str, set[str]]:
    """The unit graph: ``research/<package>`` or ``research/<module>.py`` -> units it imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module in pkg.modules:
        graph[unit_of(module)]
    for imp in pkg.imports:
        a, b = unit_of(imp.source), unit_of(imp.target)
        if a != b:
            graph[a].add(b)
    return dict(graph)


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                out.append(sorted(component))
    return out


def _shortest_cycle(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """A shortest cycle through the first member of a strongly connected component."""
    inside = set(members)
    start = members[0]
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph.get(node, ())):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if child in inside and child not in parent:
                parent[child] = node
                queue.append(child)
    return [start, start]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One named cycle per strongly connected component of more than one node."""
    return [_shortest_cycle(graph, c) for c in _components(graph) if len(c) > 1]


def module_cycle_rows(pkg: Package) -> list[str]:
    """Each module cycle, with the import statement that makes each of its edges."""
    return _cycle_rows(pkg, pkg.edges(), lambda m: m)


def unit_cycle_rows(pkg: Package) -> list[str]:
    """Each unit cycle, with one import statement that makes each of its edges."""
    return _cycle_rows(pkg, unit_edges(pkg), unit_of)


def _cycle_rows(pkg: Package, graph: dict[str, set[str]], node_of) -> list[str]:
    """A shortest cycle per strongly connected component, naming the whole component when it
    is larger, and under it one import (module-level first) per edge of the cycle."""
    rows = []
    for members in (c for c in _components(graph) if len(c) > 1):
        cycle = _shortest_cycle(graph, members)
        row = " -> ".join(cycle)
        if len(members) > len(cycle) - 1:
            row += f"  (each of these reaches every other: {', '.join(members)})"
        for a, b in zip(cycle, cycle[1:]):
            imp = min(
                (i for i in pkg.imports if node_of(i.source) == a and node_of(i.target) == b),
                key=lambda i: (i.local, i.source, i.line),
            )
            local = " inside a function" if imp.local else ""
            row += f"\n      {imp.source}:{imp.line} imports {imp.target}{local}"
        rows.append(row)
    return rows


def layer_of(module: str, layers: dict[str, tuple[str, ...]] = LAYERS) -> str | None:
    """The layer of the longest entry of :data:`LAYERS` that is the module or its package."""
    best, best_len = None, -1
    for layer, names in layers.items():
        for name in names:
            hit = module == name or (module.startswith(name + ".") and name != PACKAGE)
            if hit and len(name) > best_len:
                best, best_len = layer, len(name)
    return best


def layer_violations(pkg: Package) -> list[str]:
    out = []
    for module in sorted(pkg.modules):
        if layer_of(module) is None:
            out.append(f"{module}: in no layer of the table (add it, or remove the module)")
    seen = set()
    for imp in pkg.imports:
        key = (imp.source, imp.target)
        if key in seen or imp.source == imp.target:
            continue
        seen.add(key)
        src, dst = layer_of(imp.source), layer_of(imp.target)
        where = f"{imp.source}:{imp.line} imports {imp.target}"
        if imp.target in NEVER_IMPORTED:
            out.append(f"{where}: nothing imports {imp.target}")
        elif src is None or dst is None or src == dst:
            continue
        elif dst not in MAY_IMPORT[src] | MODULE_MAY_IMPORT.get(imp.source, frozenset()):
            out.append(f"{where}: {src} may not import {dst}")
    return out


def local_imports(pkg: Package) -> list[Import]:
    """Function-local imports of project modules, one per (module, line, target)."""
    found = {
        (i.source, i.line, i.target): i
        for i in pkg.imports
        if i.local and (i.source, i.target) not in LOCAL_IMPORTS_ALLOWED
    }
    return [found[k] for k in sorted(found)]


def size_violations(
    pkg: Package, max_module: int = MAX_MODULE_LINES, max_function: int = MAX_FUNCTION_LINES
) -> list[str]:
    out = [
        f"{m}: {n} lines (module limit {max_module})"
        for m, n in sorted(pkg.lines.items())
        if n > max_module
    ]
    out += [
        f"{m}.{name}:{line}: {n} lines (function limit {max_function})"
        for m, name, line, n in sorted(pkg.functions)
        if n > max_function
    ]
    return out


def counts(pkg: Package) -> dict[str, int]:
    module_graph = pkg.edges()
    return {
        "modules": len(pkg.modules),
        "import edges": sum(len(v) for v in module_graph.values()),
        "unit edges": sum(len(v) for v in unit_edges(pkg).values()),
        "function-local project imports": len({(i.source, i.line) for i in pkg.imports if i.local}),
        "module cycles": len(cycles(module_graph)),
        "unit cycles": len(cycles(unit_edges(pkg))),
        "layer violations": len(layer_violations(pkg)),
        "modules over limit": sum(n > MAX_MODULE_LINES for n in pkg.lines.values()),
        "functions over limit": sum(f[3] > MAX_FUNCTION_LINES for f in pkg.functions),
    }


def summary(pkg: Package) -> str:
    return "research/: " + ", ".join(f"{k} {v}" for k, v in counts(pkg).items())


def _failure(title: str, rows: list[str], pkg: Package) -> str:
    return f"{len(rows)} {title}:\n  " + "\n  ".join(rows) + f"\n{summary(pkg)}"


# -- the tests on research/ ----------------------------------------------------------------


@pytest.fixture(scope="module")
def research() -> Package:
    return read_package(ROOT)


def test_no_import_cycle_between_modules(research):
    found = module_cycle_rows(research)
    assert not found, _failure("import cycles between modules", found, research)


def test_no_import_cycle_between_units(research):
    found = unit_cycle_rows(research)
    assert not found, _failure("import cycles between research/ units", found, research)


def test_imports_follow_the_layers(research):
    found = layer_violations(research)
    assert not found, _failure("imports that break the layering", found, research)


def test_project_imports_are_at_module_top(research):
    found = [
        f"{i.source}:{i.line} imports {i.target} inside a function" for i in local_imports(research)
    ]
    assert not found, _failure("function-local project imports", found, research)


def test_modules_and_functions_are_short(research):
    found = size_violations(research)
    assert not found, _failure("modules or functions over the limit", found, research)


def test_matplotlib_backend_is_chosen_once(research):
    """``matplotlib.use("Agg")`` in one module that every figure module imports."""
    found = research.backend_calls
    assert len(found) == 1, f"matplotlib.use in {len(found)} places: {', '.join(found)}"


# -- the checks catch what they should: a synthetic package --------------------------------


def _write(root: Path, files: dict[str, str]) -> Package:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return read_package(root)


def test_reader_resolves_imports(tmp_path):
    pkg = _write(
        tmp_path,
        {
            "research/__init__.py": "",
            "research/errors.py": "",
            "research/nn/__init__.py": "from .mlp import MLP\n",
            "research/nn/mlp.py": "from ..errors import E\nfrom research import errors\n",
            "research/train/__init__.py": "",
            "research/train/fit.py": (
                "from typing import TYPE_CHECKING\n"
                "import numpy\n"
                "from research.nn import mlp, MLP\n"
                "if TYPE_CHECKING:\n    from research.config import Config\n"
                "else:\n    import research.errors\n"
                "def f():\n    from . import fit\n    import torch\n"
            ),
            "research/config.py": "",
        },
    )
    assert pkg.edges() == {
        "research": set(),
        "research.errors": set(),
        "research.config": set(),
        "research.nn": {"research.nn.mlp"},
        "research.nn.mlp": {"research.errors"},
        "research.train": set(),
        "research.train.fit": {"research.nn.mlp", "research.nn", "research.errors"},
    }
    local = [(i.source, i.target) for i in pkg.imports if i.local]
    assert local == [("research.train.fit", "research.train.fit")]  # torch is no project module


def test_cycles_are_found_and_named(tmp_path):
    pkg = _write(
        tmp_path,
        {
            "research/__init__.py": "",
            "research/config.py": "from research.search import spec\n",
            "research/search/__init__.py": "",
            "research/search/spec.py": "import research.train.fit\n",
            "research/train/__init__.py": "",
            "research/train/fit.py": "def f():\n    import research.config\n",
            "research/train/a.py": "from . import b\n",
            "research/train/b.py": "from .a import x\n",
        },
    )
    assert cycles(pkg.edges()) == [
        ["research.config", "research.search.spec", "research.train.fit", "research.config"],
        ["research.train.a", "research.train.b", "research.train.a"],
    ]
    assert cycles(unit_edges(pkg)) == [
        ["research.config", "research.search", "research.train", "research.config"]
    ]
    assert [(i.source, i.target) for i in local_imports(pkg)] == [
        ("research.train.fit", "research.config")
    ]
    assert unit_cycle_rows(pkg) == [
        "research.config -> research.search -> research.train -> research.config"
        "\n      research.config:1 imports research.search.spec"
        "\n      research.search.spec:1 imports research.train.fit"
        "\n      research.train.fit:2 imports research.config inside a function"
    ]


def test_layer_violations_are_found(tmp_path):
    pkg = _write(
        tmp_path,
        {
            "research/__init__.py": "",
            "research/run.py": "",
            "research/errors.py": "",
            "research/nn/__init__.py": "from research.train import fit\n",
            "research/train/__init__.py": "",
            "research/train/fit.py": "import research.errors\nfrom research import run\n",
            "research/report/__init__.py": "",
            "research/report/build.py": "import research.config\n",
            "research/report/other.py": "import research.config\n",
            "research/report/__main__.py": "import research.kinds.base\n",
            "research/kinds/__init__.py": "",
            "research/kinds/base.py": "",
            "research/config.py": "",
            "research/jobs/__init__.py": "",
        },
    )
    assert layer_violations(pkg) == [
        "research.jobs: in no layer of the table (add it, or remove the module)",
        "research.nn:1 imports research.train.fit: nn may not import train",
        "research.report.other:1 imports research.config: report may not import config",
        "research.train.fit:2 imports research.run: nothing imports research.run",
    ]


def test_sizes_are_measured(tmp_path):
    body = "\n".join(f"        x{i} = {i}" for i in range(5))
    pkg = _write(
        tmp_path,
        {"research/__init__.py": "", "research/m.py": f"class C:\n    def f(self):\n{body}\n"},
    )
    assert size_violations(pkg, max_module=6, max_function=5) == [
        "research.m: 7 lines (module limit 6)",
        "research.m.C.f:2: 6 lines (function limit 5)",
    ]


if __name__ == "__main__":
    package = read_package(ROOT)
    for key, value in counts(package).items():
        print(f"{key}: {value}")
    for title, rows in (
        ("module cycles", module_cycle_rows(package)),
        ("unit cycles", unit_cycle_rows(package)),
        ("layer violations", layer_violations(package)),
        (
            "function-local project imports",
            [f"{i.source}:{i.line} imports {i.target}" for i in local_imports(package)],
        ),
        ("size", size_violations(package)),
        ("matplotlib.use", package.backend_calls if len(package.backend_calls) != 1 else []),
    ):
        if rows:
            print(f"\n{title}:\n  " + "\n  ".join(rows))
    sys.exit(0)
