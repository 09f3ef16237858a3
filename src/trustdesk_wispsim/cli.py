"""`trustdesk wisp simulate ...`: the WISP simulator from the command line. `pki` writes the
test certificates, `serve` runs the Member State side's server, `send` sends one form or
decision to a provider, `check` prints what the server received and exits 1 on any broken
rule."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from trustdesk_wispsim import messages, pki, rules
from trustdesk_wispsim.client import Sender
from trustdesk_wispsim.ledger import Ledger

HELP = "The WISP simulator: plays the Member State side of e-Evidence over mutual TLS."
app = typer.Typer(help=HELP, no_args_is_help=True)

PkiOption = Annotated[Path, typer.Option("--pki", help="Folder of the test PKI (written by `pki`).")]
StateOption = Annotated[Path, typer.Option("--state", help="The simulator's ledger folder (shared by send and serve).")]
ME = "FR:FR-TJ-PARIS"  # the issuing authority WISP sends for: a Member State, or the policy refuses the order
PROVIDER = "IE:TRUSTDESK"


def party(value: str) -> messages.Party:
    country, _, identifier = value.partition(":")
    if not country or not identifier:
        raise typer.BadParameter("give COUNTRY:IDENTIFIER, e.g. IE:TRUSTDESK")
    return messages.Party(country, identifier)


@app.command("pki")
def write_pki(folder: Annotated[Path, typer.Argument(help="Where to write ca.pem and the four certificates.")]) -> None:
    """Write a fresh test CA, server and client certificates for both sides."""
    made = pki.create(folder)
    typer.echo(f"CA {made.ca}; certificates: {', '.join(pki.CERTIFICATES)}")


@app.command()
def serve(
    pki_dir: PkiOption,
    state_dir: StateOption = Path("var/wispsim"),
    host: Annotated[str, typer.Option(help="Interface.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 9443,
    provider_url: Annotated[str | None, typer.Option(help="The provider's base URL, for deliverystatus.")] = None,
    me: Annotated[str, typer.Option(help="WISP's identifier, COUNTRY:ID.")] = ME,
    provider: Annotated[str, typer.Option(help="The provider's identifier, COUNTRY:ID.")] = PROVIDER,
    ack: Annotated[str, typer.Option(help="How to acknowledge an outcome: Received, Error or none.")] = "Received",
    ea_window_s: Annotated[
        float, typer.Option(help="The enforcing authority's window in seconds.")
    ] = rules.EA_WINDOW.total_seconds(),
    trust: Annotated[list[Path] | None, typer.Option(help="PEM certificates a Form 3 signer must chain to.")] = None,
) -> None:
    """Serve the WISP side: receive and check the provider's calls."""
    from trustdesk_wispsim import server, signature

    paths = pki.Pki(pki_dir)
    ledger = Ledger(state_dir)
    roots = signature.load_roots(trust) if trust else None
    sender = (
        Sender.open(provider_url, ledger, ca=paths.ca, cert=paths.cert("wisp-client"), key=paths.key("wisp-client"))
        if provider_url
        else None
    )
    wisp = server.Wisp(
        ledger=ledger,
        me=party(me),
        provider=party(provider),
        sender=sender,
        acknowledge=None if ack.lower() == "none" else messages.Delivery(ack),
        ea_window=timedelta(seconds=ea_window_s),
        verify_pdf=lambda pdf: signature.problems(pdf, roots),
    )
    context = server.server_context(ca=paths.ca, cert=paths.cert("wisp-server"), key=paths.key("wisp-server"))
    httpd = server.make_server(wisp, host=host, port=port, context=context)
    typer.echo(f"WISP simulator on https://{host}:{httpd.server_address[1]} (state {state_dir})", err=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()


@app.command()
def send(
    kind: Annotated[
        str,
        typer.Argument(
            help="production | preservation | subsequentproduction | preservationextension | groundsforrefusal | "
            "endpreservation | newdeadline | withdraw | deliverystatus | correspondence"
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="The provider's base URL (https://...).")],
    pki_dir: PkiOption,
    state_dir: StateOption = Path("var/wispsim"),
    me: Annotated[str, typer.Option(help="WISP's identifier, COUNTRY:ID.")] = ME,
    provider: Annotated[str, typer.Option(help="The provider's identifier, COUNTRY:ID.")] = PROVIDER,
    order: Annotated[
        str | None, typer.Option(help="The authorisation id a follow-up is about (default: the last order).")
    ] = None,
    priority: Annotated[str, typer.Option(help="EPOCPriority of a production order.")] = "TenDaysASAP",
    target: Annotated[list[str] | None, typer.Option(help="FORMAT=VALUE, e.g. ServiceAccessIdentifier=u1001.")] = None,
    category: Annotated[list[str] | None, typer.Option(help="RequestType values (default SubscriberData).")] = None,
    role: Annotated[str, typer.Option(help="ApproverRole of the issuer.")] = "JudgeCourtOrInvestigatingJudge",
    decision: Annotated[str, typer.Option(help="groundsforrefusal: Full, Partial or No.")] = "No",
    refused: Annotated[list[str] | None, typer.Option(help="groundsforrefusal Partial: the refused RequestTypes.")] = None,
    task: Annotated[str | None, typer.Option(help="deliverystatus: the task id.")] = None,
    status: Annotated[str, typer.Option(help="deliverystatus: Received or Error.")] = "Received",
    doc_type: Annotated[str, typer.Option("--type", help="correspondence: its DocumentType.")] = "RequestAdditionalInformation",
    text: Annotated[str, typer.Option(help="correspondence: the message.")] = "Please confirm receipt.",
    days: Annotated[int, typer.Option(help="preservationextension: days added; newdeadline: days from now.")] = 30,
) -> None:
    """Send one form or decision to a provider and print its answer."""
    paths = pki.Pki(pki_dir)
    ledger = Ledger(state_dir)
    sim, receiver, now = party(me), party(provider), datetime.now(UTC)
    sender = Sender.open(to, ledger, ca=paths.ca, cert=paths.cert("wisp-client"), key=paths.key("wisp-client"))
    known = ledger.orders()
    about = order or (list(known)[-1] if known else "")
    parties: dict[str, Any] = {"sender": sim, "receiver": receiver, "at": now}
    new_order = messages.Order(
        legal_type="EPOC-PR" if kind == "preservation" else "EPOC",
        reference=f"SIM-{now:%Y%m%d%H%M%S}",
        issuing_authority="Tribunal judiciaire de Paris, juge d'instruction",
        approver_role=messages.ApproverRole(role),
        targets=[messages.Target(*t.split("=", 1)) for t in (target or ["ServiceAccessIdentifier=u1001"])],
        categories=[messages.RequestType(c) for c in (category or ["SubscriberData"])],
        priority=messages.Priority(priority) if kind != "preservation" else None,
        emergency=priority == "EightHours",
    ).with_tasks()
    facts: dict[str, object] = {}
    if kind == "production":
        message, carried = messages.production(new_order, **parties), new_order
    elif kind == "preservation":
        message, carried = messages.preservation(new_order, **parties), new_order
    elif kind == "subsequentproduction":
        linked = known[about].transaction_id if about in known else about
        message, carried = messages.subsequent_production(new_order, linked_transaction_id=linked, **parties), new_order
    else:
        carried = None
        if kind == "preservationextension":
            message = messages.preservation_extension(about, days=days, **parties)
        elif kind == "groundsforrefusal":
            categories = [messages.RequestType(c) for c in (refused or [])]
            message = messages.grounds_for_refusal(
                about, messages.Refusal(f"{decision}GroundsForRefusal"), refused=categories, **parties
            )
            facts["refused"] = [c.value for c in categories]
        elif kind == "endpreservation":
            message = messages.end_preservation(about, **parties)
        elif kind == "newdeadline":
            message = messages.new_deadline(about, now + timedelta(days=days), **parties)
        elif kind == "withdraw":
            message = messages.withdraw(about, **parties)
        elif kind == "deliverystatus":
            task_id = task or (known[about].task_ids[0] if about in known and known[about].task_ids else "")
            message = messages.delivery_status(about, task_id, messages.Delivery(status), **parties)
        elif kind == "correspondence":
            message = messages.correspondence(about, doc_type, text, **parties)
        else:
            raise typer.BadParameter(f"unknown kind {kind!r}")
    started = time.perf_counter()
    response = sender.send(message, carried, **facts)
    sender.close()
    typer.echo(
        f"{message.path} transaction {message.transaction_id} authorisation {message.authorisation_id}: "
        f"{response.status_code} in {1000 * (time.perf_counter() - started):.0f} ms"
    )
    if response.status_code >= 300:
        typer.echo(response.text[:2000], err=True)
        raise typer.Exit(1)


@app.command()
def check(state_dir: StateOption = Path("var/wispsim")) -> None:
    """Print every call the server received with its verdict; exit 1 if any broke a rule."""
    received = Ledger(state_dir).received()
    for item in received:
        verdict = "ok" if item.ok else "; ".join(item.problems)
        typer.echo(f"{item.at:%H:%M:%S} {item.path:<20} {item.transaction_id} {verdict}")
    if any(not item.ok for item in received):
        raise typer.Exit(1)
