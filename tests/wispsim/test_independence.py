"""The simulator shares no code with the provider's adapter (issue #17, item 5): a misreading
of TS 104 144 on one side must show up as a failure on the other, not be shared."""

from __future__ import annotations

from pathlib import Path

from tests.test_layering import imported_modules, module_name

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "trustdesk_wispsim"


def test_the_simulator_imports_nothing_from_trustdesk() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert modules, "the simulator's package is where this test looks"
    imports = {
        (module_name(path), name)
        for path in modules
        for name in imported_modules(path)
        if name == "trustdesk" or name.startswith("trustdesk.")
    }
    assert imports == set()


def test_the_check_would_see_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from trustdesk.legal import eevidence\n")
    assert "trustdesk.legal.eevidence" in imported_modules(sample, module="sample")
