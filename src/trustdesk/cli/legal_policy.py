"""`trustdesk legal jurisdictions ...` and `trustdesk legal policy ...`: the country profiles,
their rule-of-law estimates update, and the dry-run of a draft policy on past decisions.

`jurisdictions_app` and `policy_app` are separate Typer apps so that a `legal` command
group owned elsewhere can mount them; `app` mounts both for the root command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from trustdesk.cli.context import console, err_console, fail, operator, state
from trustdesk.cli.disclosure import cli_principal
from trustdesk.core.errors import TrustdeskError
from trustdesk.legal.policy import jurisdictions
from trustdesk.legal.policy import service as policy_service
from trustdesk.legal.policy.rules import load_policy

app = typer.Typer(help="Lawful requests: jurisdictions and policy.", no_args_is_help=True)
jurisdictions_app = typer.Typer(help="Country profiles and the rule-of-law index.", no_args_is_help=True)
policy_app = typer.Typer(help="The global lawful-request policy.", no_args_is_help=True)
app.add_typer(jurisdictions_app, name="jurisdictions")
app.add_typer(policy_app, name="policy")


@jurisdictions_app.command("show")
def show(
    ctx: typer.Context, country: Annotated[str | None, typer.Argument(help="ISO alpha-2 code; all when left out.")] = None
) -> None:
    """Profiles with their rule-of-law estimate and tier."""
    profiles = jurisdictions.load(state(ctx).settings.data_dir)
    console.print(
        f"profiles {profiles.version}; {profiles.index['index']} ({profiles.estimates_year}), licence {profiles.index['licence']}"
    )
    table = Table("code", "name", "EU", "EEA", "estimate", "tier", "instruments")
    for p in [profiles.get(country.upper())] if country else profiles.countries.values():
        table.add_row(
            p.code,
            p.name,
            "yes" if p.eu else "",
            "yes" if p.eea else "",
            str(p.estimate),
            f"{p.tier} {p.tier_label}",
            ", ".join(sorted(p.instruments)),
        )
    console.print(table)


@jurisdictions_app.command("update")
def update(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: iso3, country, year, estimate[, percentile_rank] (or country as ISO alpha-3, year, estimate).",
            exists=True,
            dir_okay=False,
        ),
    ],
    source: Annotated[str, typer.Option(help="Where the file comes from (URL or dataset); kept with the data.")] = "",
    release: Annotated[str, typer.Option(help="The release, e.g. 'WGI 2025 Update'; kept with the data.")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and show the changes; install nothing.")] = False,
) -> None:
    """Install newer WGI Rule of Law estimates; print every country whose estimate or tier changes."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session:
            before, after, moved = policy_service.update_estimates(
                session,
                actor=operator(),
                clock=container.clock,
                principal=cli_principal(),
                data_dir=container.settings.data_dir,
                text=file.read_text(encoding="utf-8"),
                source=source,
                release=release,
                dry_run=dry_run,
            )
    except TrustdeskError as exc:
        raise fail(exc) from None
    verb = "would become" if dry_run else "->"
    console.print(
        f"profiles {before.version} {verb} [bold]{after.version}[/] (data year {before.estimates_year} -> {after.estimates_year})"
    )
    tiers = [c for c in moved if c.tier_before != c.tier_after]
    for c in tiers:
        console.print(f"  {c.code} {c.name}: tier {c.tier_before} -> {c.tier_after} ({c.before} -> {c.after})")
    console.print(
        f"{len(moved)} estimate(s) changed, {len(tiers)} tier(s) moved" + (" (dry run: nothing installed)" if dry_run else "")
    )


@policy_app.command("show")
def show_policy() -> None:
    """The policy in force: version, digest and rules."""
    policy = load_policy()
    console.print(
        f"[bold]{policy.title}[/] version {policy.version} (sha256 {policy.sha256[:16]}…), effective {policy.effective}"
    )
    for name, rule in policy.rules.items():
        console.print(f"  {rule.id:8} [{name}] {rule.text}")
    for gate in policy.gates:
        console.print(f"  {gate.rule.id:8} [gate] {gate.rule.text}")
    for tier in policy.tiers.values():
        console.print(f"  {tier.rule.id:8} [tier {tier.tier}] {tier.rule.text}")


@policy_app.command("dry-run")
def dry_run(
    ctx: typer.Context, draft: Annotated[Path, typer.Argument(help="A draft policy TOML file.", exists=True, dir_okay=False)]
) -> None:
    """What the draft would decide on past requests, next to what was decided. Writes nothing."""
    container = state(ctx).container
    try:
        with container.db.transaction() as session, Progress(console=console, transient=True) as progress:
            progress.add_task("replaying past decisions", total=None)
            policy, rows = policy_service.dry_run(
                session,
                principal=cli_principal(),
                draft_text=draft.read_text(encoding="utf-8"),
                data_dir=container.settings.data_dir,
            )
            table = Table("request", "decided", "policy", "draft would", "rules")
            for row in rows:
                style = "bold yellow" if row.changed else ""
                table.add_row(
                    row.decision.facts["reference"],
                    row.decision.outcome,
                    row.decision.policy_version,
                    f"[{style}]{row.draft.outcome.value}[/]" if style else row.draft.outcome.value,
                    ", ".join(row.draft.rule_ids),
                )
    except TrustdeskError as exc:
        raise fail(exc) from None
    console.print(table)
    changed = sum(r.changed for r in rows)
    (err_console if changed else console).print(f"draft {policy.version}: {changed} of {len(rows)} decision(s) would change")
