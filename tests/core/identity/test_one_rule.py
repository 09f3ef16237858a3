"""One authorization rule (decision 0004, docs/development.md): what a principal may do is
decided in core/identity/permissions.py only. Read from the source, so that a new
`principal.kind == "staff"` anywhere else, or a principal made with a bare string for its
kind, fails here rather than opening a silent hole."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import trustdesk
from trustdesk.core.identity.permissions import PrincipalKind

SRC = Path(trustdesk.__file__).parent
PERMISSIONS = SRC / "core" / "identity" / "permissions.py"


def _names_a_principal(node: ast.expr) -> bool:
    """`principal`, `self.principal`, `request.state.principal`, `me`, `caller`, ...: whatever
    holds a principal is named for it (the services, routers and pages all say `principal`)."""
    text = ast.unparse(node).lower()
    return any(word in text for word in ("principal", "caller"))


def _principal_kind(node: ast.expr) -> bool:
    """`x.kind` on a principal, or a `PrincipalKind` (member or the class) used in a test."""
    if isinstance(node, ast.Attribute) and node.attr == "kind" and _names_a_principal(node.value):
        return True
    return "PrincipalKind" in ast.unparse(node)


def _kind_argument(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "kind":
            return keyword.value
    return call.args[0] if call.args else None


def _is_principal_call(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "Principal") or (
        isinstance(func, ast.Attribute) and func.attr == "Principal"
    )


def _names_a_member(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "PrincipalKind"
        and node.attr in PrincipalKind.__members__
    )


def violations(source: str, name: str) -> list[str]:
    """Each place in `source` that breaks the rule, as `name:line: what`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(_principal_kind(side) for side in (node.left, *node.comparators)):
            found.append(
                f"{name}:{node.lineno}: compares a principal's kind ({ast.unparse(node)}); name the rule in permissions.py"
            )
        if isinstance(node, ast.match_case) and "PrincipalKind" in ast.unparse(node.pattern):
            found.append(f"{name}:{node.pattern.lineno}: matches on a principal's kind; name the rule in permissions.py")
        if isinstance(node, ast.Call) and _is_principal_call(node):
            kind = _kind_argument(node)
            if kind is None or not _names_a_member(kind):
                shown = ast.unparse(kind) if kind is not None else "nothing"
                found.append(f"{name}:{node.lineno}: Principal(kind={shown}); say which PrincipalKind member it is")
    return found


def _sources() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p != PERMISSIONS)


def test_no_module_but_permissions_compares_a_principals_kind_or_makes_one_from_a_string() -> None:
    found = [v for path in _sources() for v in violations(path.read_text(encoding="utf-8"), str(path.relative_to(SRC)))]
    assert not found, "\n".join(found)


def test_no_template_tests_a_principals_kind() -> None:
    """Pages ask `principal.can(...)` to decide what to show; never who the principal is."""
    found = [
        f"{path.relative_to(SRC)}:{n}"
        for path in sorted((SRC / "web" / "templates").rglob("*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"(principal|caller|me)\.kind\b", line)
    ]
    assert not found, "\n".join(found)


def test_the_permissions_module_makes_its_own_principals_with_the_enum() -> None:
    found = [v for v in violations(PERMISSIONS.read_text(encoding="utf-8"), "permissions.py") if "Principal(kind=" in v]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'if principal.kind == "staff": pass',
        'if principal.kind != "officer": pass',
        'ok = principal.kind in ("token", "cli")',
        "ok = request.state.principal.kind is PrincipalKind.STAFF",
        "ok = PrincipalKind.OFFICER == self.principal.kind",
        "ok = who == PrincipalKind.TOKEN",
        "match principal.kind:\n    case PrincipalKind.STAFF:\n        pass",
        'Principal(kind="staff", id=1, name="x", permissions=frozenset())',
        'Principal("cli", 0, "x", frozenset())',
        'permissions.Principal(kind="system", id=0, name="lane", permissions=frozenset())',
        "Principal(kind=actor.kind, id=0, name=actor.name, permissions=frozenset())",
        "Principal(kind=PrincipalKind.NOBODY, id=0, name='x', permissions=frozenset())",
    ],
)
def test_the_check_catches(source: str) -> None:
    assert violations(source, "example.py")


@pytest.mark.parametrize(
    "source",
    [
        "Principal(kind=PrincipalKind.STAFF, id=1, name='x', permissions=frozenset())",
        'ok = chat.kind == "direct"',
        "ok = effect.kind is EffectKind.VERDICT",
        "actor = Actor(principal.kind, principal.name)",
        "officer = officer_id_of(principal)",
    ],
)
def test_the_check_leaves_alone(source: str) -> None:
    assert not violations(source, "example.py")
