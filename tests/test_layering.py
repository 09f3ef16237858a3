"""The layers point one way (issue #15). Every module under src/trustdesk is parsed (imports
at module level and inside functions alike; only `if TYPE_CHECKING:` blocks are skipped, so
that a type may be named where its module may not be imported) and mapped to its layer:

    core    settings, database, audit, identity, clock, bus: imports only core
    http    the HTTP base (dependencies, problems, pagination, rendering, middleware, the
            typed container): imports only core at run time; the container names domain
            types for the type checker only
    domain  platform < legal < safety < transparency < emergency < privacy: import core, http and the
            domains below them in that order (DOMAIN_ORDER), never the top or the CLI
    top     web: the app factory, the container builders, core's own routers and pages
    cli     the command line: builds its container through the top's builder

An edge between layers against the chain, or between two domains up the order, fails here;
so the graph of top-level packages has no cycle (the app factory, at the top, imports every
domain and none imports it back)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "trustdesk"

LAYERS = {
    "core": "core",
    "http": "http",
    "web": "top",
    "cli": "cli",
    "platform": "domain",
    "legal": "domain",
    "safety": "domain",
    "emergency": "domain",
    "transparency": "domain",
    "privacy": "domain",
}
ALLOWED_LAYERS = {  # which layers a layer may import at run time
    "core": {"core"},
    "http": {"core", "http"},
    "domain": {"core", "http", "domain"},
    "top": {"core", "http", "domain", "top"},
    "cli": {"core", "http", "domain", "top", "cli"},
}
# The domains, lowest first: a domain imports only those before it, so none imports another back.
# privacy is last: its data map reaches every room's tables (holds, orders, appeals, actions).
DOMAIN_ORDER = ["platform", "legal", "safety", "transparency", "emergency", "privacy"]
# Imports against the layers, each with why it is still there and what takes it away. A new one
# fails; one that is gone fails too, until it is taken off this list.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(path: Path, *, module: str | None = None) -> list[str]:
    """Every module `path` imports at run time, wherever the import statement is."""
    module, is_package = module or module_name(path), path.name == "__init__.py"
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit_statement(other)
            else:
                visit_statement(child)

    def visit_statement(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names)
        else:
            visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "trustdesk" or len(parts) < 2 or parts[1] not in LAYERS:
        return None  # third party, the standard library, or trustdesk's root (__version__)
    return parts[1]


def package_edges(*, excepted: bool = False) -> dict[tuple[str, str], set[str]]:
    """(importing package, imported package) -> the importing modules; the EXCEPTIONS left out
    unless `excepted`."""
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        source = package_of(module_name(path))
        if source is None:
            continue
        for imported in imported_modules(path):
            target = package_of(imported)
            if target is not None and target != source and (excepted or (module_name(path), target) not in EXCEPTIONS):
                edges[(source, target)].add(module_name(path))
    return edges


def layer_violations() -> list[str]:
    return [
        f"{LAYERS[a]} {a} imports {LAYERS[b]} {b}: {', '.join(sorted(modules))}"
        for (a, b), modules in sorted(package_edges().items())
        if LAYERS[b] not in ALLOWED_LAYERS[LAYERS[a]]
    ]


def test_every_package_is_in_a_layer() -> None:
    found = {path.name for path in PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert found == set(LAYERS)


def test_layers_point_one_way() -> None:
    assert layer_violations() == []


def test_every_exception_is_still_needed() -> None:
    found = {(module, b) for (_, b), modules in package_edges(excepted=True).items() for module in modules}
    assert set(EXCEPTIONS) - found == set(), "an exception is gone: take it off EXCEPTIONS"


def domain_edges() -> set[tuple[str, str]]:
    return {edge for edge in package_edges() if LAYERS[edge[0]] == LAYERS[edge[1]] == "domain"}


def test_the_order_names_every_domain_once() -> None:
    assert sorted(DOMAIN_ORDER) == sorted(p for p, layer in LAYERS.items() if layer == "domain")


def test_domains_import_only_the_domains_below_them() -> None:
    upward = {(a, b) for a, b in domain_edges() if DOMAIN_ORDER.index(b) > DOMAIN_ORDER.index(a)}
    assert upward == set(), "a domain imports one above it in DOMAIN_ORDER: that work is the higher domain's (or core's)"


def test_the_packages_have_no_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in package_edges():
        graph[a].add(b)
    done: set[str] = set()

    def reach(package: str, path: tuple[str, ...]) -> None:
        assert package not in path, f"a cycle: {' -> '.join((*path, package))}"
        if package not in done:
            for imported in sorted(graph[package]):
                reach(imported, (*path, package))
            done.add(package)

    for package in sorted(LAYERS):
        reach(package, ())


def test_the_layers_have_no_cycle() -> None:
    """Domains taken as one layer, the graph is a chain: core <- http <- domains <- top <- cli."""
    order = ["core", "http", "domain", "top", "cli"]
    for a, b in package_edges():
        assert order.index(LAYERS[b]) <= order.index(LAYERS[a]), (a, b)


def test_only_the_cli_imports_the_top() -> None:
    importers = {a for (a, b) in package_edges() if b == "web"}
    assert importers <= {"cli"}


def test_the_check_sees_imports_inside_functions_and_skips_type_checking(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a.typed\nelse:\n    import c.plain\n"
        "def f():\n    from b import late\n"
    )
    names = imported_modules(sample, module="sample")
    assert {"b.late", "c.plain"} <= set(names) and "a.typed" not in names
