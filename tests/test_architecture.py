"""The layers of docs/architecture.md, read from the code's own imports: the domain
imports neither the read side nor the ways in, the read side not the ways in, and no
module of the product imports itself back through others."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("domain", "projections", "api")
PRODUCT = "campledger"

# Who may import whom (docs/architecture.md): the layer of a module is the longest prefix
# of its name found here, and it may import only modules whose layer is listed for it.
LAYERS = {
    "campledger.domain.model": {"campledger.domain.model"},
    # The in-memory recorder implements the command service's journal port.
    "campledger.domain.persistence": {
        "campledger.domain.model",
        "campledger.domain.persistence",
        "campledger.domain.service.journal",
    },
    "campledger.domain.commands": {
        "campledger.domain.model",
        "campledger.domain.commands",
        "campledger.domain.service",
    },
    "campledger.domain.service": {
        "campledger.domain.model",
        "campledger.domain.persistence",
        "campledger.domain.commands",
        "campledger.domain.service",
    },
    "campledger.domain.history": {"campledger.domain.model", "campledger.domain.history"},
    "campledger.domain": {"campledger.domain"},
    "campledger.projections": {"campledger.domain", "campledger.projections"},
    # The application services know neither the transports nor the web console.
    "campledger.api.services": {
        "campledger.domain",
        "campledger.projections",
        "campledger.api.services",
        "campledger.api.schemas",
        "campledger.api.database",
        "campledger.api.settings",
    },
    # The bodies every way in accepts: pydantic models over the domain's rules.
    "campledger.api.schemas": {
        "campledger.domain",
        "campledger.projections",
        "campledger.api.schemas",
    },
    "campledger.api.database": {
        "campledger.domain",
        "campledger.api.database",
        "campledger.api.settings",
    },
    "campledger.api.settings": set(),
    "campledger.api.composition": {
        "campledger.domain",
        "campledger.projections",
        "campledger.api.database",
        "campledger.api.settings",
    },
    "campledger.api.http": {
        "campledger.domain",
        "campledger.projections",
        "campledger.api.services",
        "campledger.api.schemas",
        "campledger.api.database",
        "campledger.api.settings",
        "campledger.api.composition",
        "campledger.api.http",
    },
    # The web console may use what the HTTP API may; only the application factory
    # (api/http/app.py) imports the console, to mount it.
    "campledger.api.console": {
        "campledger.domain",
        "campledger.projections",
        "campledger.api.services",
        "campledger.api.schemas",
        "campledger.api.database",
        "campledger.api.settings",
        "campledger.api.composition",
        "campledger.api.http",
        "campledger.api.console",
    },
    "campledger.api.http.app": {
        "campledger.domain",
        "campledger.projections",
        "campledger.api.services",
        "campledger.api.schemas",
        "campledger.api.database",
        "campledger.api.settings",
        "campledger.api.composition",
        "campledger.api.http",
        "campledger.api.console.app",
    },
    "campledger.api.cli": {"campledger"},
    "campledger.api": {"campledger.api"},
}
# Modules that may not import a web or command-line framework: what they do is the same
# whichever way a request came in.
NO_TRANSPORT = ("campledger.domain", "campledger.projections", "campledger.api.services")
TRANSPORTS = ("fastapi", "starlette", "typer", "uvicorn")


def _modules() -> dict[str, Path]:
    found = {}
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join((PRODUCT, *(parts[:-1] if parts[-1] == "__init__" else parts)))
            found[name] = path
    return found


def _layer(module: str) -> str:
    return max((layer for layer in LAYERS if f"{module}.".startswith(f"{layer}.")), key=len)


def _may_import(module: str, imported: str) -> bool:
    return any(f"{imported}.".startswith(f"{allowed}.") for allowed in LAYERS[_layer(module)])


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imported_names(tree: ast.AST) -> Iterator[str]:
    """Every module name a module imports when it runs (not for type checking)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {n for n in _imported_names(ast.parse(path.read_text())) if n in modules} - {name}
        for name, path in modules.items()
    }


def test_every_module_is_named_in_a_layer() -> None:
    assert all(_layer(module) for module in _modules())


def test_each_layer_imports_only_the_layers_it_may() -> None:
    graph = _graph()
    assert len(graph) > 100 and sum(map(len, graph.values())) > 300  # the graph was read
    broken = [
        f"{module} imports {imported}"
        for module, imports in graph.items()
        for imported in imports
        if not _may_import(module, imported)
    ]
    assert broken == []


def test_the_product_is_imported_by_its_installed_name_only() -> None:
    """`domain`, `api` and `projections` are other projects' names on PyPI."""
    bare = [
        f"{path.relative_to(ROOT)}: {name}"
        for folder in (*FOLDERS, "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        for name in _imported_names(ast.parse(path.read_text()))
        if name.split(".")[0] in FOLDERS
    ]
    assert bare == []


def test_services_and_the_model_use_no_transport_framework() -> None:
    found = [
        f"{module} imports {name}"
        for module, path in _modules().items()
        if module.startswith(NO_TRANSPORT)
        for name in _imported_names(ast.parse(path.read_text()))
        if name.split(".")[0] in TRANSPORTS
    ]
    assert found == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_an_import_inside_a_function_says_why() -> None:
    unexplained = []
    for name, path in _modules().items():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    said = lines[inner.lineno - 2 : inner.lineno]
                    if not any("#" in line for line in said):
                        unexplained.append(f"{name}:{inner.lineno}")
    assert unexplained == []


def test_every_module_fits_on_a_few_screens() -> None:
    """400 lines at most: past that a module does more than one job (split it by job)."""
    longest = {
        name: count
        for name, path in _modules().items()
        if (count := len(path.read_text().splitlines())) > 400
    }
    assert longest == {}
