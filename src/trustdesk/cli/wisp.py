"""`trustdesk wisp`: the e-Evidence channel's command line. `simulate` is the WISP simulator
(the separate package trustdesk_wispsim, which imports nothing from Trustdesk)."""

from __future__ import annotations

import typer

from trustdesk_wispsim.cli import app as simulate_app

app = typer.Typer(help="The e-Evidence WISP channel: the simulator of the Member State side.", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")
