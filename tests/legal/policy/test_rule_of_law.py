"""Rule-of-law tiers from the official World Bank WGI Rule of Law estimates (issue #16 item 7):
the shipped data is the 2024 Update's 213 economies for 2023, unaltered, with its source and
year kept next to it; a newer release is validated, shown and installed with its own."""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from pathlib import Path

import pytest

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.policy import jurisdictions

SHIPPED = jurisdictions.SHIPPED_ESTIMATES
PROVENANCE = tomllib.loads(jurisdictions.provenance_path(SHIPPED).read_text())
ROWS = list(csv.DictReader(io.StringIO(SHIPPED.read_text(encoding="utf-8"))))


def test_the_shipped_estimates_are_the_official_release_with_their_provenance() -> None:
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == PROVENANCE["sha256"]
    assert PROVENANCE["data_year"] == 2023 and PROVENANCE["rows"] == len(ROWS) == 213
    assert PROVENANCE["licence"] == "CC BY 4.0" and "2024 Update" in PROVENANCE["release"]
    assert list(ROWS[0]) == PROVENANCE["columns"]
    by_code = {r["iso3"]: float(r["estimate"]) for r in ROWS}
    # The official values the shared README cross-checks, never the rounded ones typed from memory.
    assert by_code["FIN"] == pytest.approx(1.967, abs=1e-3) and by_code["TUR"] == pytest.approx(-0.512, abs=1e-3)
    assert by_code["USA"] == pytest.approx(1.33, abs=1e-2) and by_code["VEN"] == pytest.approx(-2.152, abs=1e-3)


def test_tiers_and_the_record_name_the_official_year_and_release() -> None:
    profiles = jurisdictions.load()
    assert profiles.estimates_year == 2023 and "wgi2023" in profiles.version
    assert "2024 Update" in profiles.index["status"] and profiles.index["data_year"] == "2023"
    tiers = {code: profiles.get(code).tier for code in ("FI", "US", "IT", "TR", "RU", "VE")}
    assert tiers == {"FI": 1, "US": 1, "IT": 2, "TR": 3, "RU": 4, "VE": 4}  # TR was 4 in the table typed from memory
    for code, profile in profiles.countries.items():
        assert profile.estimate is not None, code


def test_estimates_that_do_not_match_their_provenance_are_refused(tmp_path: Path) -> None:
    jurisdictions.install_estimates(data_dir=tmp_path, text=SHIPPED.read_text(), source="test", release="copy")
    target = tmp_path / jurisdictions.OVERRIDE
    target.write_text(SHIPPED.read_text().replace("TUR,Türkiye,2023,-0.51", "TUR,Türkiye,2023,1.51"))
    with pytest.raises(ValueError, match="does not describe"):
        jurisdictions.load(tmp_path)


def _release(year: int, changes: dict[str, float]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["iso3", "country", "year", "estimate", "percentile_rank"])
    for row in ROWS:
        writer.writerow([row["iso3"], row["country"], year, changes.get(row["iso3"], row["estimate"]), ""])
    return out.getvalue()


def test_a_newer_release_installs_with_its_own_provenance(tmp_path: Path) -> None:
    before, after = jurisdictions.install_estimates(
        data_dir=tmp_path, text=_release(2024, {"TUR": 1.2}), source="https://example.org/wgi", release="WGI 2025 Update"
    )
    assert before.get("TR").tier == 3 and after.get("TR").tier == 1 and after.estimates_year == 2024
    kept = tomllib.loads((tmp_path / "policy" / "wgi_rule_of_law.provenance.toml").read_text())
    assert (kept["data_year"], kept["release"], kept["source"]) == (2024, "WGI 2025 Update", "https://example.org/wgi")
    assert [c.code for c in jurisdictions.changes(before, after)] == ["TR"]
    assert jurisdictions.load().get("TR").tier == 3  # the shipped data is untouched


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_release(2022, {}), "older than"),
        (_release(2024, {}).replace(",2024,", ",2024,", 1).replace("\nABW,Aruba,2024,", "\nABW,Aruba,2024,x", 1), "numbers"),
        ("iso3,country,year,estimate,percentile_rank\nFRA,France,2024,1.0,140\n", "0 to 100"),
        ("iso3,country,year\nFRA,France,2024\n", "columns"),
    ],
)
def test_a_bad_release_is_refused_and_changes_nothing(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        jurisdictions.install_estimates(data_dir=tmp_path, text=text, source="s", release="r")
    assert not (tmp_path / jurisdictions.OVERRIDE).exists()
