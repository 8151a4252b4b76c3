"""The engine package stays plain Python: no event loop, no server, no world."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "sim" / "engine"
FORBIDDEN = ("asyncio", "importlib", "sim.serve", "sim.world", "sim.runner", "sim.shard",
             "sim.analysis", "sim.report", "sim.commands", "uvicorn", "httpx")  # fmt: skip


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_engine_module_imports_io_or_a_higher_layer() -> None:
    found = {
        f"{path.relative_to(ENGINE)}: {name}"
        for path in sorted(ENGINE.rglob("*.py"))
        for name in imports_of(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert not found


def test_the_facade_probes_nothing_by_name() -> None:
    source = (ENGINE / "engine.py").read_text(encoding="utf-8")
    calls = {
        node.func.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not calls & {"getattr", "hasattr", "setattr"}
    assert "fsync" not in source
