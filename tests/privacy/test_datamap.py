"""The data map guards the schema (issue #21): every table is in it, as personal data with
its category, purpose, basis and period, or marked as holding none; every column it names
exists; and a table whose columns look personal cannot be marked as holding none."""

from __future__ import annotations

import re

import pytest

from trustdesk.core.database import Base, import_all_models
from trustdesk.core.errors import InvalidInput
from trustdesk.core.settings import Settings
from trustdesk.privacy import datamap
from trustdesk.privacy.datamap import DATAMAP, Action

PERSONAL_LOOKING = re.compile(
    r"(account|user|actor|sender|reporter|notifier|email|phone|display_name|staff_name|spoke_to|author|officer|staff|by$|_by|snapshot|payload|content|text|body|message|subject_id|recipient)"
)

# Columns whose names look personal in tables that hold none, each with why.
NOT_PERSONAL = {
    ("legal_policy_documents", "text"): "the legal policy's own text",
    ("transparency_report_files", "content"): "a published report of aggregate counts",
    ("statements_of_reasons", "payload"): "what the DSA database receives: no personal data by its rules (DSA Art. 24(5))",
}


@pytest.fixture(scope="module")
def data_map() -> datamap.DataMap:
    import_all_models()
    return datamap.load()


def test_every_table_is_in_the_data_map(data_map: datamap.DataMap) -> None:
    schema = set(Base.metadata.tables)
    mapped = set(data_map.tables) | set(data_map.no_personal_data)
    missing = sorted(schema - mapped)
    assert not missing, f"tables missing from {DATAMAP.name}: add each with its category, purpose, basis and period: {missing}"
    assert not sorted(mapped - schema), "the data map names tables the schema does not have"


def test_tables_marked_without_personal_data_have_no_personal_looking_column(data_map: datamap.DataMap) -> None:
    for name in data_map.no_personal_data:
        looking = [
            c.name
            for c in Base.metadata.tables[name].columns
            if PERSONAL_LOOKING.search(c.name) and (name, c.name) not in NOT_PERSONAL
        ]
        assert not looking, f"{name} is marked as holding no personal data but has {looking}"


def test_the_guard_catches_a_new_table(data_map: datamap.DataMap) -> None:
    from sqlalchemy import Column, Integer, MetaData, String, Table

    extra = MetaData()
    Table("new_reporter_table", extra, Column("id", Integer, primary_key=True), Column("reporter_email", String(254)))
    schema = set(Base.metadata.tables) | set(extra.tables)
    assert schema - (set(data_map.tables) | set(data_map.no_personal_data)) == {"new_reporter_table"}


def test_every_named_column_exists(data_map: datamap.DataMap) -> None:
    for entry in data_map.tables.values():
        columns = set(Base.metadata.tables[entry.table].columns.keys())
        named = set(entry.personal) | set(entry.clear) | set(entry.pseudonymise) | set(entry.match)
        if entry.starts:
            named.add(entry.starts)
        assert named <= columns, f"{entry.table}: {sorted(named - columns)}"
        if entry.via:
            column, parent, parent_column = entry.via
            assert column in columns and parent_column in Base.metadata.tables[parent].columns
        if entry.retention_setting:
            assert entry.retention_setting in Settings.model_fields
        if entry.action in (Action.PSEUDONYMISE, Action.PURGE):
            assert entry.clear or entry.pseudonymise or entry.files, f"{entry.table} empties nothing"


def test_personal_looking_columns_are_declared(data_map: datamap.DataMap) -> None:
    """A column that looks personal in a mapped table is in its `personal` list, or the
    table is one whose personal data is only its staff names (kept)."""
    for entry in data_map.tables.values():
        t = Base.metadata.tables[entry.table]
        for column in t.columns:
            if column.name in ("id",) or column.primary_key or column.foreign_keys:
                continue
            if (entry.table, column.name) in NOT_PERSONAL:
                continue
            if column.name in (
                "account_id",
                "notifier_email",
                "notifier_name",
                "email",
                "payload",
                "snapshot",
                "sender",
                "reporter",
            ):
                assert column.name in entry.personal, f"{entry.table}.{column.name} holds personal data: list it in `personal`"


def test_every_purpose_has_a_basis_and_periods_are_stated(data_map: datamap.DataMap) -> None:
    for entry in data_map.tables.values():
        assert entry.legal_basis.startswith("GDPR Art."), entry.table
        assert entry.retention, entry.table
    for purpose in data_map.purposes.values():
        assert "Art." in purpose.legal_basis


def test_a_malformed_entry_is_refused() -> None:
    text = DATAMAP.read_text()
    broken = text.replace(
        'starts = "decided_at"\nretention_days = 730\nretention = "two years after the decision: past', 'retention = "x: past', 1
    )
    assert broken != text
    with pytest.raises(InvalidInput, match="notices: a period needs `starts`"):
        datamap.parse(broken)
    with pytest.raises(InvalidInput, match="twice"):
        datamap.parse(
            text
            + '\n[[tables]]\ntable = "audit_head"\ncategories = []\npurpose = "rights"\nlegal_basis = "GDPR Art. 6"\npersonal = []\naction = "keep"\nretention = "x"\nerasure = "erase"\n'
        )
