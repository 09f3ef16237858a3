"""What every command shares: settings built once from the root options, and the container."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from trustdesk.core.errors import TrustdeskError

if TYPE_CHECKING:
    from trustdesk.core.audit import Actor
    from trustdesk.core.settings import Settings
    from trustdesk.web.container import Container

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliState:
    config: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _container: Container | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from trustdesk.core.settings import load_settings

            self._settings = load_settings(self.config)
        return self._settings

    @property
    def container(self) -> Container:
        if self._container is None:
            from trustdesk.web.container import build_container  # the whole server's wiring: only commands that use it pay

            self._container = build_container(self.settings)
        return self._container


def state(ctx: typer.Context) -> CliState:
    return ctx.find_root().obj


def operator() -> Actor:
    """CLI actions are recorded as done by the operating system user at the console."""
    from trustdesk.core.audit import Actor

    return Actor("cli", getpass.getuser())


def fail(exc: TrustdeskError) -> typer.Exit:
    err_console.print(f"[bold red]{exc.title}:[/] {exc.detail}")
    return typer.Exit(code=2)
