"""The domain core does no I/O and knows nothing of the edges.

``model``, ``metrics``, ``sla``, ``queueing`` and ``planning`` never import the command
line, the web, the store, the source adapters or a database driver, and never open files.
Adapters (``sources``) translate bytes they are given: they do not open files either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "servicelevel"

CORE = ("model", "metrics", "sla", "queueing", "planning")
EDGES = ("typer", "fastapi", "uvicorn", "rich", "duckdb", "servicelevel.cli",
         "servicelevel.web", "servicelevel.store", "servicelevel.sources")
FILE_CALLS = ("open", "read_text", "read_bytes", "write_text", "write_bytes")

#: Core modules allowed one narrow exception, and why.
ALLOWED: dict[str, str] = {}


def _modules(*layers: str) -> list[Path]:
    return sorted(p for layer in layers for p in (PACKAGE / layer).rglob("*.py"))


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _file_calls(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in FILE_CALLS:
                found.add(name)
    return found


@pytest.mark.parametrize("path", _modules(*CORE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_imports_no_edge_and_opens_no_file(path: Path) -> None:
    relative = str(path.relative_to(PACKAGE))
    if relative in ALLOWED:
        pytest.skip(ALLOWED[relative])
    tree = ast.parse(path.read_text(encoding="utf-8"))
    edges = {name for name in _imports(tree) for edge in EDGES
             if name == edge or name.startswith(edge + ".")}
    assert not edges, f"{relative} imports the edge(s) {sorted(edges)}"
    assert not _file_calls(tree), f"{relative} does file I/O: {sorted(_file_calls(tree))}"


@pytest.mark.parametrize("path", _modules("sources"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_adapters_translate_bytes_and_open_no_file(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imports = _imports(tree)
    assert not {n for n in imports if n.startswith(("servicelevel.store", "servicelevel.cli",
                                                     "typer", "fastapi"))}
    assert not _file_calls(tree), f"{path.name} does file I/O"
