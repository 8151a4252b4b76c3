"""The import graph of ``sim`` and ``loadtest``: no cycles, and every import points down.

Every module is parsed with :mod:`ast` (nothing is imported), and every
``import`` statement counts, including the ones inside functions and under
``TYPE_CHECKING``: a lazy import is still a dependency. The layers, from the
ground floor up:

    0  trace      sim.trace, sim.errors: the contract (event type, vocabulary,
                  clock, hooks, reader and writer, the truth index)
    1  world      sim.world: SimPy people and devices (never scores)
       engine     sim.engine: identity and messaging, pure Python
       warehouse  sim.warehouse: the trace as warehouse tables, identity outputs read back
    2  analysis   sim.analysis: every comparison with truth
    3  runner     sim.runner: one run's wiring (world + engine + sinks); it
                  calls analysis to write the run's summary
    4  report     sim.report: tables and figures from a run folder
       serve      sim.serve: the HTTP collector over the engine
       loadtest   loadtest: replaying a trace over HTTP
    5  commands   sim.commands, sim.cli, sim.api and the ``sim`` package itself

A module may import its own layer and the layers below; two different layers
on one floor (world and engine; report, serve and loadtest) never import each
other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "loadtest")

LAYERS: dict[str, tuple[int, str]] = {
    "sim.trace": (0, "trace"),
    "sim.errors": (0, "trace"),
    "sim.world": (1, "world"),
    "sim.engine": (1, "engine"),
    "sim.warehouse": (1, "warehouse"),
    "sim.analysis": (2, "analysis"),
    "sim.runner": (3, "runner"),
    "sim.report": (4, "report"),
    "sim.serve": (4, "serve"),
    "loadtest": (4, "loadtest"),
    "sim.commands": (5, "commands"),
    "sim.cli": (5, "commands"),
    "sim.api": (5, "commands"),
    "sim": (5, "commands"),
}

# Violations other helpers of issue 13 are still removing on their branches, each
# entry (importer, imported). Empty now that the identity package has no import
# cycle (one GraphState shared by graph, finalize passes and shard export/absorb):
# any violation fails the test.
PENDING: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The project modules ``name`` imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` runs ``pkg/__init__.py`` too: an edge to both
            targets = [base] + [
                f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imported(name, path, known)) for name, path in known.items()}


def layer(name: str) -> tuple[int, str]:
    best = ""
    for prefix in LAYERS:
        if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    assert best, f"{name}: no layer; add its package to LAYERS in {__file__}"
    return LAYERS[best]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    edges = graph()
    assert "sim.api" in edges["sim"]  # imported inside sim.__getattr__
    assert "sim.runner.run" in edges["sim.runner"]
    assert "sim.trace.reader" in edges["loadtest.replay"]


def test_no_import_cycles() -> None:
    edges = graph()
    pending = {(a, b) for a, b in PENDING}
    kept = {a: {b for b in targets if (a, b) not in pending} for a, targets in edges.items()}
    assert cycles(kept) == []


def test_imports_point_down() -> None:
    wrong = []
    for name, targets in sorted(graph().items()):
        floor, kind = layer(name)
        for target in sorted(targets):
            target_floor, target_kind = layer(target)
            upward = target_floor > floor
            sideways = target_floor == floor and target_kind != kind
            if (upward or sideways) and (name, target) not in PENDING:
                wrong.append(f"{name} ({kind}) imports {target} ({target_kind})")
    assert wrong == []


def test_pending_lists_only_real_imports() -> None:
    edges = graph()
    stale = sorted(f"{a} -> {b}" for a, b in PENDING if b not in edges.get(a, set()))
    assert stale == [], "no longer imported: remove from PENDING"
