"""The simulator's checks on what a provider sends to WISP (the seven calls), from the
simulator's own reading of TS 104 144 and Reg. 2023/1543; a call that breaks one is answered
400 with the list of problems, and recorded with it, so a test sees exactly what was wrong."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from trustdesk_wispsim import namespaces as ns
from trustdesk_wispsim.ledger import OrderState

PROVIDER_CALLS = (
    "outcome",
    "nonexecution",
    "datapreserved",
    "confirmwithdrawal",
    "correspondence",
    "enforcingauthorityId",
    "authorities",
)
# Annex III, Section D: the ten reasons a provider may give for not executing an order.
FORM3_REASONS = frozenset(
    {
        "Incomplete",
        "ManifestErrors",
        "InsufficientInformation",
        "DataNotHeld",
        "DeFactoImpossibility",
        "InvalidIssuingAuthority",
        "OffenceNotCovered",
        "ServiceNotCovered",
        "ImmunitiesOrPrivileges",
        "ConflictOfLaw",
    }
)
# Annex III, Section E (Art. 17): what a provider must set out when it invokes a third
# country's law. Matched by local name, whether an element or a document property.
CONFLICT_OF_LAW_FIELDS = (
    "ThirdCountry",
    "LawAndProvisions",
    "ConflictingObligation",
    "WhyApplicable",
    "ProviderLink",
    "Consequences",
)
# The only correspondence types a provider may send (TS 104 144 as quoted in public plans).
PROVIDER_CORRESPONDENCE = frozenset({"RequestAdditionalInformation", "ProvideAdditionalInformation"})
INLINE_LIMIT = 25 * 1024 * 1024  # outcome: inline up to 25 MB, by reference above
EA_WINDOW = timedelta(days=10)  # Art. 10(2): data out at the end of ten days unless the EA decides sooner


class Malformed(ValueError):
    """The body is not a well-formed, safe HI1Message."""


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)


def parse(body: bytes) -> etree._Element:
    if b"<!DOCTYPE" in body[:4096] or b"<!ENTITY" in body:
        raise Malformed("a DOCTYPE or entity declaration is not accepted")
    try:
        root = etree.parse(io.BytesIO(body), _PARSER).getroot()
    except etree.XMLSyntaxError as exc:
        raise Malformed(f"not well-formed XML: {exc}") from None
    if root.tag != f"{{{ns.CORE}}}HI1Message":
        raise Malformed(f"the root is {root.tag}, not {{{ns.CORE}}}HI1Message")
    return root


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path, namespaces={"c": ns.CORE, "common": ns.COMMON, "doc": ns.DOC, "notify": ns.NOTIFY})
    return (found.text or "").strip() if found is not None else ""


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


@dataclass(frozen=True)
class Inbound:
    """A parsed provider call: the header and its objects."""

    root: etree._Element
    transaction_id: str
    sender: tuple[str, str]
    receiver: tuple[str, str]
    timestamp: str
    objects: list[etree._Element]

    @classmethod
    def of(cls, root: etree._Element) -> Inbound:
        header = root.find(f"{{{ns.CORE}}}Header")
        if header is None:
            raise Malformed("no Header")
        objects = root.findall(f".//{{{ns.CORE}}}HI1Object")
        return cls(
            root=root,
            transaction_id=_text(header, "c:TransactionIdentifier"),
            sender=(_text(header, "c:SenderIdentifier/c:CountryCode"), _text(header, "c:SenderIdentifier/c:UniqueIdentifier")),
            receiver=(
                _text(header, "c:ReceiverIdentifier/c:CountryCode"),
                _text(header, "c:ReceiverIdentifier/c:UniqueIdentifier"),
            ),
            timestamp=_text(header, "c:Timestamp"),
            objects=objects,
        )

    def of_type(self, concrete: str) -> list[etree._Element]:
        return [o for o in self.objects if (o.get(f"{{{ns.XSI}}}type") or "").split(":")[-1] == concrete]

    def references(self) -> set[str]:
        """Every object id this message names: its own objects and their associations."""
        found = {_text(o, "c:ObjectIdentifier") for o in self.objects}
        for namespace in (ns.CORE, ns.NOTIFY):  # an object's links, and a notification's status lines
            found |= {(a.text or "").strip() for a in self.root.iter(f"{{{namespace}}}AssociatedObject")}
        return found - {""}

    def dictionary_values(self, name: str) -> list[str]:
        """The values of every `common:Owner/Name/Value` entry with that Name."""
        values = []
        for entry_name in self.root.iter(f"{{{ns.COMMON}}}Name"):
            if (entry_name.text or "").strip() == name:
                value = entry_name.getparent().find(f"{{{ns.COMMON}}}Value")
                if value is not None:
                    values.append((value.text or "").strip())
        return values

    def local_names(self) -> set[str]:
        names = {_local(e.tag) for e in self.root.iter() if isinstance(e.tag, str)}
        return names | set(self.dictionary_values("EPOCDocumentProperty"))


@dataclass
class Context:
    """What the checks compare a call with."""

    me: tuple[str, str]  # the simulator's (country, identifier)
    provider: tuple[str, str]
    orders: dict[str, OrderState]
    seen: dict[str, str]  # transaction id -> sha256 of calls received before
    now: datetime
    ea_window: timedelta = EA_WINDOW
    verify_pdf: Callable[[bytes], list[str]] | None = None


def check(path: str, body: bytes, sha256: str, ctx: Context) -> tuple[Inbound | None, list[str]]:
    """Every problem with one call to `path`; no problems means the call is acknowledged."""
    if path not in PROVIDER_CALLS:
        return None, [f"WISP has no endpoint {path!r}"]
    try:
        inbound = Inbound.of(parse(body))
    except Malformed as exc:
        return None, [str(exc)]
    problems = _header(inbound, sha256, ctx)
    problems += CHECKS[path](inbound, ctx)
    return inbound, problems


def _header(inbound: Inbound, sha256: str, ctx: Context) -> list[str]:
    problems = []
    try:
        uuid.UUID(inbound.transaction_id)
    except ValueError:
        problems.append("the TransactionIdentifier is not a UUID")
    if inbound.transaction_id in ctx.seen and ctx.seen[inbound.transaction_id] != sha256:
        problems.append("a transaction id used before for a different message")
    if inbound.receiver != ctx.me:
        problems.append(f"the ReceiverIdentifier is {inbound.receiver}, not WISP's {ctx.me}")
    if inbound.sender != ctx.provider:
        problems.append(f"the SenderIdentifier is {inbound.sender}, not the provider's {ctx.provider}")
    if not inbound.timestamp:
        problems.append("no Timestamp")
    version = inbound.root.find(f"{{{ns.CORE}}}Header/{{{ns.CORE}}}Version")
    if version is None:
        problems.append("no Version in the header")
    return problems


def order_of(inbound: Inbound, ctx: Context) -> OrderState | None:
    """The known order a call is about (by authorisation id, or through one of its task ids)."""
    refs = inbound.references()
    for order in ctx.orders.values():
        if order.authorisation_id in refs or refs & set(order.task_ids):
            return order
    return None


def _known(inbound: Inbound, ctx: Context) -> tuple[OrderState | None, list[str]]:
    order = order_of(inbound, ctx)
    return order, ([] if order else ["the message names no order WISP sent (no known authorisation or task id)"])


def _outcome(inbound: Inbound, ctx: Context) -> list[str]:
    order, problems = _known(inbound, ctx)
    if order is None:
        return problems
    if order.legal_type != "EPOC":
        problems.append("data pushed for a preservation order (an EPOC-PR asks for preservation, not production)")
    if order.withdrawn:
        problems.append("data pushed for a withdrawn order")
    if order.refusal == "FullGroundsForRefusal":
        problems.append("data pushed although the enforcing authority refused the whole order")
    if order.priority == "TenDaysSubjectToEA" and order.refusal != "NoGroundsForRefusal":
        if ctx.now < order.sent_at + ctx.ea_window:
            problems.append("data pushed before the enforcing authority's window ended and without NoGroundsForRefusal")
    if order.refusal == "PartialGroundsForRefusal":
        delivered = set(inbound.dictionary_values("RequestType"))
        if not delivered:
            problems.append("after a partial refusal the outcome must say which categories it carries (RequestType)")
        if delivered & set(order.refused):
            problems.append(f"data of refused categories pushed: {sorted(delivered & set(order.refused))}")
    problems += _payload(inbound)
    return problems


def _payload(inbound: Inbound) -> list[str]:
    bodies = list(inbound.root.iter(f"{{{ns.DOC}}}Contents")) + list(inbound.root.iter(f"{{{ns.CORE}}}Contents"))
    by_reference = [e for e in inbound.root.iter() if isinstance(e.tag, str) and _local(e.tag) in ("Location", "URL", "URI")]
    if not bodies and not by_reference:
        return ["the outcome carries no data: no inline Contents and no reference"]
    problems = []
    for body in bodies:
        if len(body.text or "") * 3 // 4 > INLINE_LIMIT:
            problems.append("inline data over 25 MB: it must go by reference")
    return problems


def _nonexecution(inbound: Inbound, ctx: Context) -> list[str]:
    order, problems = _known(inbound, ctx)
    if not inbound.of_type("NotificationObject"):
        problems.append("Form 3 comes with a NotificationObject")
    reasons = set(inbound.dictionary_values("EPOCNotificationType")) | set(inbound.dictionary_values("EPOCNonExecutionReason"))
    named = reasons & FORM3_REASONS
    if not named:
        problems.append(f"no reason from the ten of Annex III (got {sorted(reasons) or 'none'})")
    if "ConflictOfLaw" in named:
        missing = [f for f in CONFLICT_OF_LAW_FIELDS if f not in inbound.local_names()]
        if missing:
            problems.append(f"ConflictOfLaw without its structured fields: {missing}")
    pdfs = [d for d in inbound.of_type("DocumentObject") if "Form3" in _doc_types(d)]
    if not pdfs:
        problems.append("no DocumentObject of type Form3")
    for doc in pdfs:
        problems += _signed_pdf(doc, ctx)
    return problems


def _doc_types(doc: etree._Element) -> list[str]:
    return [(v.text or "").strip() for v in doc.iterfind(f"{{{ns.DOC}}}DocumentType/{{{ns.COMMON}}}Value")]


def _signed_pdf(doc: etree._Element, ctx: Context) -> list[str]:
    if _text(doc, "doc:DocumentBody/doc:ContentType") != "application/pdf":
        return ["the Form 3 document is not application/pdf"]
    try:
        pdf = base64.b64decode(_text(doc, "doc:DocumentBody/doc:Contents"), validate=True)
    except ValueError:
        return ["the Form 3 document's Contents are not base64"]
    if not pdf.startswith(b"%PDF-"):
        return ["the Form 3 document is not a PDF"]
    if b"/ByteRange" not in pdf or b"/Sig" not in pdf:
        return ["the Form 3 PDF carries no signature"]
    return ctx.verify_pdf(pdf) if ctx.verify_pdf else []


def _datapreserved(inbound: Inbound, ctx: Context) -> list[str]:
    order, problems = _known(inbound, ctx)
    if order is not None and order.legal_type != "EPOC-PR":
        problems.append("datapreserved for an order that is not an EPOC-PR")
    if order is not None and order.withdrawn:
        problems.append("datapreserved for a withdrawn order")
    return problems


def _confirmwithdrawal(inbound: Inbound, ctx: Context) -> list[str]:
    order, problems = _known(inbound, ctx)
    if order is not None and not order.withdrawn:
        problems.append("a withdrawal confirmed that WISP never sent")
    return problems


def _correspondence(inbound: Inbound, ctx: Context) -> list[str]:
    _, problems = _known(inbound, ctx)
    types = set(inbound.dictionary_values("EPOCDocumentType"))
    if not types or not types <= PROVIDER_CORRESPONDENCE:
        problems.append(f"a provider sends only {sorted(PROVIDER_CORRESPONDENCE)} (got {sorted(types) or 'none'})")
    return problems


def _lookup(inbound: Inbound, ctx: Context) -> list[str]:
    return []  # a query: the header checks are all there is


CHECKS: dict[str, Callable[[Inbound, Context], list[str]]] = {
    "outcome": _outcome,
    "nonexecution": _nonexecution,
    "datapreserved": _datapreserved,
    "confirmwithdrawal": _confirmwithdrawal,
    "correspondence": _correspondence,
    "enforcingauthorityId": _lookup,
    "authorities": _lookup,
}
