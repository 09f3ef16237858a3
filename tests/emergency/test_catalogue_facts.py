"""The emergency lane retypes no legal fact: the TCO instrument's code, legal basis and clock
come from the catalogue (legal/data/instruments.toml), and a removal's deadline is its
request's, computed once by the legal domain (`clocks.of_request`) and copied in one place."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import trustdesk
from trustdesk.emergency import removal
from trustdesk.legal.instruments import InstrumentCode, load_catalogue

SOURCE = Path(trustdesk.__file__).parent
EMERGENCY = sorted((SOURCE / "emergency").glob("*.py"))


def _strings(path: Path) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [
        ast.literal_eval(t.string)
        for t in tokens
        if t.type == tokenize.STRING and not t.string.startswith(("f", "F", "rf", "fr"))
    ]


def test_the_lane_names_the_catalogue_s_instrument() -> None:
    tco = load_catalogue().get(InstrumentCode.TCO_REMOVAL)
    assert removal.TCO is InstrumentCode.TCO_REMOVAL and removal.instrument() is tco
    assert removal.legal_ground().startswith(tco.legal_basis)
    assert removal.hour_text() == "one-hour" and tco.clock.due_hours == 1


def test_no_instrument_code_or_legal_basis_is_retyped() -> None:
    catalogue = load_catalogue()
    codes = {str(code) for code in catalogue.instruments}
    bases = {
        i.legal_basis.split(",")[0] for i in catalogue.instruments.values()
    }  # "Regulation (EU) 2021/784 (terrorist content online)"
    for path in EMERGENCY:
        for text in _strings(path):
            assert text not in codes, f"{path.name} retypes the instrument code {text!r}: use InstrumentCode"
            assert not any(basis in text for basis in bases), f"{path.name} retypes a legal basis: read the catalogue"


def test_deadlines_are_computed_once() -> None:
    """No hour is added by hand in the lane, the removal's copy of the deadline is set by
    `follow_due` only, and only the legal clocks call `compute`."""
    for path in EMERGENCY:
        text = path.read_text(encoding="utf-8")
        assert "timedelta(hours" not in text, path.name
        assert text.count(".due_at = ") == (1 if path.name == "removal.py" else 0), path.name
    callers = [p.relative_to(SOURCE) for p in SOURCE.rglob("*.py") if "clocks.compute(" in p.read_text(encoding="utf-8")]
    assert callers == [], f"deadlines computed outside legal/clocks.py (use clocks.of_request / set_deadlines): {callers}"
