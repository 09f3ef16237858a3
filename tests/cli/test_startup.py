"""The CLI starts at once (issue #19): the root and its help import no domain, and each lazy
entry loads the command group its module defines, with the help the listing promised."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from trustdesk.cli.main import COMMANDS, app, load

HEAVY = ("sqlalchemy", "fastapi", "pydantic", "numba", "faiss", "pdqhash", "PIL", "trustdesk.web", "trustdesk.core.audit")


def test_the_root_help_imports_no_domain() -> None:
    probe = (
        "import sys\n"
        "from trustdesk.cli.main import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert "Commands" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_lazy_entry_loads_its_group_with_the_listed_help(name: str) -> None:
    lazy = COMMANDS[name]
    command = load(name)
    assert command.name == name
    target = getattr(__import__(lazy.module, fromlist=[lazy.attribute]), lazy.attribute)
    own = target.info.help if isinstance(target, typer.Typer) else (target.__doc__ or "").strip().splitlines()[0]
    assert lazy.help == own
    result = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert lazy.help.split(":")[0] in result.output


def test_a_one_command_group_stays_a_group() -> None:
    """`trustdesk db upgrade`, not `trustdesk db`: typer collapses a group of one command."""
    result = CliRunner().invoke(app, ["db", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "upgrade" in result.output


def test_log_redaction_computes_the_route_templates_on_the_first_log_line() -> None:
    probe = (
        "import logging, sys\n"
        "from trustdesk.http import log_redaction\n"
        "calls = []\n"
        "log_redaction.install_lazily(lambda: calls.append(1) or ['/report/{token}'])\n"
        "print(len(calls))\n"
        "logging.basicConfig(stream=sys.stdout, format='%(message)s')\n"
        "logging.getLogger('x').warning('GET /report/s3cr3t-token-value')\n"
        "logging.getLogger('x').warning('again')\n"
        "print(len(calls))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    before, line, _again, after = result.stdout.strip().splitlines()
    assert (before, after) == ("0", "1")  # not computed until a line was logged, then once
    assert "s3cr3t" not in line
