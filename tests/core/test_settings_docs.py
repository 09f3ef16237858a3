from __future__ import annotations

from pathlib import Path

from trustdesk.core.settings import Settings
from trustdesk.core.settings_docs import reference

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_the_configuration_reference_is_up_to_date() -> None:
    """Fails when a setting was added or changed without `trustdesk settings docs > docs/configuration.md`."""
    assert DOC.read_text() == reference()


def test_every_setting_explains_itself() -> None:
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undocumented == []
