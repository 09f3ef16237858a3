"""The only module that knows the XML: HI-1 messages of ETSI TS 103 120 as WISP (ETSI TS 104 144)
carries them, read and written with lxml.

Reading is hardened: no DTD is loaded, no entity resolved, nothing fetched from the network,
no huge trees; a message with a DOCTYPE or an ENTITY declaration is refused outright, before
the parser sees it. Every refusal is a `WireError` that says what is wrong (the API turns it
into an RFC 9457 problem that carries the transaction id when one could be read).

What is strict and what is lenient (docs/e-evidence.md names the sources):
- strict: the root is `HI1Message` in the Core namespace; the Header has SenderIdentifier and
  ReceiverIdentifier (CountryCode, UniqueIdentifier), TransactionIdentifier and Timestamp;
  the Payload is a RequestPayload of ActionRequests, each with an ActionIdentifier and one
  verb (CREATE, UPDATE, ...) holding one HI1Object whose `xsi:type` names a known object.
- lenient: fields inside an object are found by local name, so that a field put in the
  Common rather than the object's own namespace is still read (TS 103 120's schema could not
  be read here to settle each one).

Public entry points: `parse`, `read_order`, `read_reference`, `read_decision`,
`read_delivery_statuses`, `read_document`, `read_new_deadline`, `build_ack`, `build_call`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from lxml import etree

CORE = "http://uri.etsi.org/03120/common/2019/10/Core"
COMMON = "http://uri.etsi.org/03120/common/2016/02/Common"
AUTH = "http://uri.etsi.org/03120/common/2020/09/Authorisation"
TASK = "http://uri.etsi.org/03120/common/2020/09/Task"
DOC = "http://uri.etsi.org/03120/common/2020/09/Document"
NOTIFICATION = "http://uri.etsi.org/03120/common/2016/02/Notification"
DELIVERY = "http://uri.etsi.org/03120/common/2019/10/Delivery"  # from memory of TS 103 120; not verified here
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {
    None: CORE,
    "common": COMMON,
    "auth": AUTH,
    "task": TASK,
    "doc": DOC,
    "notification": NOTIFICATION,
    "delivery": DELIVERY,
    "xsi": XSI,
}
ETSI_VERSION = "V1.18.1"
NATIONAL_PROFILE = ("EU", "TS104144-V1.2.1")

# LPTaskObject: a preservation task (Form 2), as the public converter of the EU reference
# implementation's forms writes them; found by the WISP simulator's end-to-end test.
OBJECT_TYPES = frozenset(
    {"AuthorisationObject", "LDTaskObject", "LPTaskObject", "DocumentObject", "NotificationObject", "DeliveryObject"}
)
VERBS = frozenset({"CREATE", "UPDATE", "GET", "LIST", "DELIVER"})
MAX_TEXT = 10_000

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class WireError(Exception):
    """A message that is not a valid HI-1 message for this endpoint. `code` is stable."""

    def __init__(self, code: str, detail: str, *, transaction_id: str | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.transaction_id = code, detail, transaction_id


class Priority(StrEnum):
    """EPOCPriority (TS 104 144, from the public Form 1 to HI-1 mapping)."""

    EIGHT_HOURS = "EightHours"
    TEN_DAYS_ASAP = "TenDaysASAP"
    TEN_DAYS_SUBJECT_TO_EA = "TenDaysSubjectToEA"


class ApprovalRole(StrEnum):
    JUDGE = "JudgeCourtOrInvestigatingJudge"
    PROSECUTOR = "PublicProsecutor"
    OTHER = "OtherCompetentAuthority"


class Decision(StrEnum):
    FULL = "FullGroundsForRefusal"
    PARTIAL = "PartialGroundsForRefusal"
    NONE = "NoGroundsForRefusal"


# RequestType values of an LDTask and the data category each is (Art. 3(9)-(12)).
REQUEST_TYPES = {
    "SubscriberData": "subscriber",
    "UserIdentifyingData": "identification",
    "TrafficData": "traffic",
    "StoredContentData": "content",
}
CATEGORY_TYPES = {v: k for k, v in REQUEST_TYPES.items()}


@dataclass(frozen=True)
class Party:
    country: str
    unique_id: str


@dataclass(frozen=True)
class HI1Object:
    verb: str
    action_id: str
    type: str
    identifier: str
    element: etree._Element = field(repr=False, compare=False)

    @property
    def associated(self) -> list[str]:
        return [t for e in _all(self.element, "AssociatedObject") if (t := _text(e))]


@dataclass(frozen=True)
class Envelope:
    transaction_id: str
    timestamp: datetime
    sender: Party
    receiver: Party
    objects: list[HI1Object]

    def of_type(self, kind: str) -> list[HI1Object]:
        return [o for o in self.objects if o.type == kind]


@dataclass(frozen=True)
class TaskForm:
    identifier: str
    reference: str
    categories: frozenset[str]
    targets: list[str]
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class OrderForm:
    """Form 1, 2 or 5 as HI-1 objects: the AuthorisationObject and its LDTasks."""

    authorisation_id: str
    reference: str
    legal_type: str  # EPOC or EPOC-PR
    priority: Priority | None
    issuer_role: ApprovalRole | None
    validator_role: ApprovalRole | None
    issuer_name: str
    emergency: bool
    enforcing_authority_notified: bool
    offence: str
    grounds: str
    linked_epoc_pr_transaction_id: str | None
    tasks: list[TaskForm]


@dataclass(frozen=True)
class DocumentForm:
    identifier: str
    document_type: str
    associated: list[str]
    properties: list[tuple[str, str]]
    body: str


# ------------------------------------------------------------------------------------ reading


def parse(body: bytes) -> Envelope:
    """Bytes to an envelope, or a `WireError` saying what is wrong; never another exception."""
    if not body or not body.strip():
        raise WireError("empty", "The body is empty; an HI1Message was expected.")
    if _DECLARATION.search(body):
        raise WireError("doctype", "A DOCTYPE or ENTITY declaration is not accepted in an HI-1 message.")
    try:
        root = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise WireError("malformed", f"The body is not well-formed XML: {str(exc)[:200]}") from None
    if root is None or not isinstance(root.tag, str):
        raise WireError("malformed", "The body holds no XML element.")
    if root.getroottree().docinfo.doctype:
        raise WireError("doctype", "A DOCTYPE is not accepted in an HI-1 message.")
    if root.tag != f"{{{CORE}}}HI1Message":
        raise WireError("namespace", f"The root element must be HI1Message in {CORE}; got {_clark(root.tag)}.")
    header = _need(root, CORE, "Header")
    transaction_id = _need_text(header, CORE, "TransactionIdentifier")
    try:
        return Envelope(
            transaction_id=transaction_id,
            timestamp=_instant(_need_text(header, CORE, "Timestamp"), "Timestamp"),
            sender=_party(_need(header, CORE, "SenderIdentifier")),
            receiver=_party(_need(header, CORE, "ReceiverIdentifier")),
            objects=_objects(root),
        )
    except WireError as exc:
        exc.transaction_id = transaction_id
        raise


def _objects(root: etree._Element) -> list[HI1Object]:
    request = root.find(f"{{{CORE}}}Payload/{{{CORE}}}RequestPayload/{{{CORE}}}ActionRequests")
    if request is None:
        raise WireError("structure", "The Payload must hold a RequestPayload with ActionRequests.")
    found = []
    for action in request.findall(f"{{{CORE}}}ActionRequest"):
        action_id = _need_text(action, CORE, "ActionIdentifier")
        verbs = [c for c in action if isinstance(c.tag, str) and etree.QName(c).localname in VERBS]
        if len(verbs) != 1:
            raise WireError("structure", f"ActionRequest {action_id} must hold exactly one of {', '.join(sorted(VERBS))}.")
        verb = verbs[0]
        obj = verb.find(f"{{{CORE}}}HI1Object")
        if obj is None:
            raise WireError("structure", f"ActionRequest {action_id} holds no HI1Object.")
        found.append(
            HI1Object(etree.QName(verb).localname, action_id, _xsi_type(obj), _need_text(obj, CORE, "ObjectIdentifier"), obj)
        )
    if not found:
        raise WireError("structure", "ActionRequests holds no ActionRequest.")
    return found


def _xsi_type(obj: etree._Element) -> str:
    raw = obj.get(f"{{{XSI}}}type")
    if not raw:
        raise WireError("structure", "An HI1Object has no xsi:type.")
    prefix, _, local = raw.rpartition(":")
    namespace = obj.nsmap.get(prefix or None)
    if local not in OBJECT_TYPES or namespace not in (AUTH, TASK, DOC, NOTIFICATION, DELIVERY):
        raise WireError("structure", f"Unknown HI1Object type {raw!r}.")
    return local


def read_order(envelope: Envelope, *, legal_types: Iterable[str]) -> OrderForm:
    """The order a production, preservation or subsequent-production message carries."""
    auths = envelope.of_type("AuthorisationObject")
    if len(auths) != 1 or auths[0].verb != "CREATE":
        raise WireError(
            "structure", "The message must CREATE exactly one AuthorisationObject.", transaction_id=envelope.transaction_id
        )
    auth = auths[0]
    legal_type = _dictionary_value(auth.element, "AuthorisationLegalType")
    if legal_type not in set(legal_types):
        raise WireError(
            "legal-type",
            f"AuthorisationLegalType {legal_type or '(none)'} is not one this endpoint takes ({', '.join(legal_types)}).",
            transaction_id=envelope.transaction_id,
        )
    tasks = [_task(t, envelope) for t in [*envelope.of_type("LDTaskObject"), *envelope.of_type("LPTaskObject")]]
    if not tasks:
        raise WireError(
            "structure", "The order names no LDTaskObject (what to produce or preserve).", transaction_id=envelope.transaction_id
        )
    priority = _dictionary_value(auth.element, "AuthorisationPriority")
    flags = {
        _text(v)
        for v in _all(auth.element, "Value")
        if v.getparent() is not None and etree.QName(v.getparent()).localname == "AuthorisationFlag"
    }
    roles = _roles(auth.element)
    try:
        prio = Priority(priority) if priority else None
    except ValueError:
        raise WireError(
            "priority",
            f"EPOCPriority {priority!r} is not EightHours, TenDaysASAP or TenDaysSubjectToEA.",
            transaction_id=envelope.transaction_id,
        ) from None
    return OrderForm(
        authorisation_id=auth.identifier,
        reference=_first_text(auth.element, "AuthorisationReference"),
        legal_type=legal_type,
        priority=prio,
        issuer_role=roles.get("IssuingAuthority"),
        validator_role=roles.get("ValidatingAuthority"),
        issuer_name=_first_text(auth.element, "ApproverName"),
        emergency=prio is Priority.EIGHT_HOURS or "IsEmergency" in flags,
        enforcing_authority_notified=prio is Priority.TEN_DAYS_SUBJECT_TO_EA or "EnforcingAuthorityNotified" in flags,
        offence=_first_text(auth.element, "AuthorisationTypeOfCase")
        or _dictionary_value(auth.element, "AuthorisationTypeOfCase"),
        grounds=_first_text(auth.element, "AuthorisationManualInformation"),
        linked_epoc_pr_transaction_id=_first_text(auth.element, "LinkedEPOCPRTransactionId") or None,
        tasks=tasks,
    )


def _roles(auth: etree._Element) -> dict[str, ApprovalRole]:
    roles = {}
    for details in _all(auth, "AuthorisationApprovalDetails"):
        kind, role = _first_text(details, "ApprovalType"), _first_text(details, "ApproverRole")
        if role:
            try:
                roles[kind or "IssuingAuthority"] = ApprovalRole(role)
            except ValueError:
                raise WireError("approval-role", f"ApproverRole {role!r} is not one of {', '.join(ApprovalRole)}.") from None
    return roles


def _task(obj: HI1Object, envelope: Envelope) -> TaskForm:
    el = obj.element
    categories = set()
    for t in _all(el, "Type"):
        value = _first_text(t, "Value")
        if value and value not in REQUEST_TYPES:
            raise WireError(
                "request-type",
                f"LDTask {obj.identifier}: RequestType {value!r} is not one of {', '.join(REQUEST_TYPES)}.",
                transaction_id=envelope.transaction_id,
            )
        if value:
            categories.add(REQUEST_TYPES[value])
    if not categories:
        raise WireError("request-type", f"LDTask {obj.identifier} names no RequestType.", transaction_id=envelope.transaction_id)
    targets = [v for rv in _all(el, "RequestValue") if (v := _first_text(rv, "Value"))]
    start, end = _first_text(el, "StartTime"), _first_text(el, "EndTime")
    return TaskForm(
        identifier=obj.identifier,
        reference=_first_text(el, "Reference") or obj.identifier,
        categories=frozenset(categories),
        targets=targets,
        start=_instant(start, "StartTime") if start else None,
        end=_instant(end, "EndTime") if end else None,
    )


def read_reference(envelope: Envelope) -> str:
    """Which order a follow-up message is about: an UPDATEd AuthorisationObject's identifier,
    else the first AssociatedObject of any object."""
    for obj in envelope.objects:
        if obj.type == "AuthorisationObject":
            return obj.identifier
    for obj in envelope.objects:
        if obj.associated:
            return obj.associated[0]
    raise WireError(
        "no-reference",
        "The message names no order (no AuthorisationObject, no AssociatedObject).",
        transaction_id=envelope.transaction_id,
    )


def read_document(envelope: Envelope) -> DocumentForm:
    docs = envelope.of_type("DocumentObject")
    if not docs:
        raise WireError("structure", "The message holds no DocumentObject.", transaction_id=envelope.transaction_id)
    obj = docs[0]
    props = []
    for prop in _all(obj.element, "DocumentProperty"):
        props.append(
            (_dictionary_value(prop, "PropertyType") or _first_text(prop, "PropertyType"), _first_text(prop, "PropertyValue"))
        )
    return DocumentForm(
        identifier=obj.identifier,
        document_type=_dictionary_value(obj.element, "DocumentType") or _first_text(obj.element, "DocumentType"),
        associated=obj.associated,
        properties=props,
        body=_document_text(obj.element),
    )


def _document_text(el: etree._Element) -> str:
    contents = _first_text(el, "Contents")
    if contents:
        try:
            return base64.b64decode(contents, validate=True).decode("utf-8", "replace")[:MAX_TEXT]
        except ValueError:
            raise WireError("document", "DocumentBody/Contents is not base64.") from None
    return (_first_text(el, "DocumentSummary") or _first_text(el, "DocumentName"))[:MAX_TEXT]


def read_decision(envelope: Envelope) -> tuple[Decision, frozenset[str], DocumentForm]:
    """The enforcing authority's decision and, for a partial one, the categories it refuses."""
    doc = read_document(envelope)
    try:
        decision = Decision(doc.document_type)
    except ValueError:
        raise WireError(
            "decision",
            f"DocumentType {doc.document_type!r} is not one of {', '.join(Decision)}.",
            transaction_id=envelope.transaction_id,
        ) from None
    refused = set()
    for kind, value in doc.properties:
        if kind == "RefusedDataCategory":
            if value not in REQUEST_TYPES:
                raise WireError(
                    "decision",
                    f"RefusedDataCategory {value!r} is not one of {', '.join(REQUEST_TYPES)}.",
                    transaction_id=envelope.transaction_id,
                )
            refused.add(REQUEST_TYPES[value])
    if decision is Decision.PARTIAL and not refused:
        raise WireError(
            "decision", "A PartialGroundsForRefusal must list each RefusedDataCategory.", transaction_id=envelope.transaction_id
        )
    return decision, frozenset(refused), doc


def read_new_deadline(envelope: Envelope) -> datetime:
    doc = read_document(envelope)
    for kind, value in doc.properties:
        if kind == "NewDeadline" and value:
            return _instant(value, "NewDeadline")
    raise WireError("deadline", "The message gives no NewDeadline property.", transaction_id=envelope.transaction_id)


def read_delivery_statuses(envelope: Envelope) -> list[tuple[str, str, str]]:
    """(LDTask identifier, 'Received' | 'Error', details) for each NotificationObject."""
    found = []
    for obj in envelope.of_type("NotificationObject"):
        status = _dictionary_value(obj.element, "NotificationType") or _first_text(obj.element, "NotificationType")
        if status not in ("Received", "Error"):
            raise WireError(
                "delivery-status",
                f"NotificationType {status!r} is not Received or Error.",
                transaction_id=envelope.transaction_id,
            )
        if not obj.associated:
            raise WireError(
                "delivery-status", f"Notification {obj.identifier} names no LDTask.", transaction_id=envelope.transaction_id
            )
        found.append((obj.associated[0], status, _first_text(obj.element, "NotificationDetails")[:500]))
    if not found:
        raise WireError("delivery-status", "The message holds no NotificationObject.", transaction_id=envelope.transaction_id)
    return found


# ---------------------------------------------------------------------------- small helpers


def _clark(tag: str) -> str:
    q = etree.QName(tag)
    return f"{{{q.namespace}}}{q.localname}" if q.namespace else q.localname


def _need(parent: etree._Element, ns: str, name: str) -> etree._Element:
    el = parent.find(f"{{{ns}}}{name}")
    if el is None:
        raise WireError("structure", f"{etree.QName(parent).localname} has no {name}.")
    return el


def _need_text(parent: etree._Element, ns: str, name: str) -> str:
    value = _text(_need(parent, ns, name))
    if not value or len(value) > 200:
        raise WireError("structure", f"{etree.QName(parent).localname}/{name} must be 1 to 200 characters.")
    return value


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _all(parent: etree._Element, local: str) -> list[etree._Element]:
    return [e for e in parent.iter() if isinstance(e.tag, str) and etree.QName(e).localname == local]


def _first_text(parent: etree._Element, local: str) -> str:
    found = _all(parent, local)
    return _text(found[0])[:MAX_TEXT] if found else ""


def _dictionary_value(parent: etree._Element, local: str) -> str:
    """A TS 103 120 DictionaryEntry (Owner, Name, Value): its Value."""
    found = _all(parent, local)
    return _first_text(found[0], "Value") if found else ""


def _party(el: etree._Element) -> Party:
    return Party(_need_text(el, CORE, "CountryCode").upper(), _need_text(el, CORE, "UniqueIdentifier"))


def _instant(value: str, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WireError("timestamp", f"{what} {value[:40]!r} is not an ISO 8601 date-time.") from None
    if parsed.tzinfo is None:
        raise WireError("timestamp", f"{what} {value[:40]!r} has no time zone (TS 103 120 uses UTC, 'Z').")
    return parsed.astimezone(UTC)


# ------------------------------------------------------------------------------------ writing


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        el.text = text
    return el


def _dictionary(parent: etree._Element, ns: str, name: str, dictionary: str, value: str) -> etree._Element:
    el = _sub(parent, ns, name)
    _sub(el, COMMON, "Owner", "ETSI")
    _sub(el, COMMON, "Name", dictionary)
    _sub(el, COMMON, "Value", value)
    return el


def _envelope(
    *, sender: Party, receiver: Party, transaction_id: str, timestamp: datetime
) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{CORE}}}HI1Message", nsmap=NSMAP)  # type: ignore[arg-type]
    header = _sub(root, CORE, "Header")
    for name, party in (("SenderIdentifier", sender), ("ReceiverIdentifier", receiver)):
        el = _sub(header, CORE, name)
        _sub(el, CORE, "CountryCode", party.country)
        _sub(el, CORE, "UniqueIdentifier", party.unique_id)
    _sub(header, CORE, "TransactionIdentifier", transaction_id)
    _sub(header, CORE, "Timestamp", _stamp(timestamp))
    version = _sub(header, CORE, "Version")
    _sub(version, CORE, "ETSIVersion", ETSI_VERSION)
    _sub(version, CORE, "NationalProfileOwner", NATIONAL_PROFILE[0])
    _sub(version, CORE, "NationalProfileVersion", NATIONAL_PROFILE[1])
    return root, _sub(root, CORE, "Payload")


def build_ack(*, envelope: Envelope, timestamp: datetime) -> bytes:
    """The answer to an accepted message: the same TransactionIdentifier, sender and receiver
    swapped, one ActionResponse per ActionRequest (`<VERB>Response` with the object's id)."""
    root, payload = _envelope(
        sender=envelope.receiver, receiver=envelope.sender, transaction_id=envelope.transaction_id, timestamp=timestamp
    )
    responses = _sub(_sub(payload, CORE, "ResponsePayload"), CORE, "ActionResponses")
    for obj in envelope.objects:
        response = _sub(responses, CORE, "ActionResponse")
        _sub(response, CORE, "ActionIdentifier", obj.action_id)
        _sub(_sub(response, CORE, f"{obj.verb}Response"), CORE, "Identifier", obj.identifier)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class OutObject:
    """One object of an outbound call: its verb, xsi:type (prefix:Type), id, what it is
    associated with, and (namespace, name, text | dictionary) fields in order."""

    verb: str
    xsi_type: str
    identifier: str
    associated: tuple[str, ...] = ()
    fields: tuple[tuple[str, str, str | tuple[str, str]], ...] = ()


def build_call(*, sender: Party, receiver: Party, transaction_id: str, timestamp: datetime, objects: list[OutObject]) -> bytes:
    """An outbound request (outcome, nonexecution, datapreserved, confirmwithdrawal,
    correspondence, enforcingauthorityId, authorities) as an HI1Message."""
    root, payload = _envelope(sender=sender, receiver=receiver, transaction_id=transaction_id, timestamp=timestamp)
    requests = _sub(_sub(payload, CORE, "RequestPayload"), CORE, "ActionRequests")
    for n, item in enumerate(objects):
        action = _sub(requests, CORE, "ActionRequest")
        _sub(action, CORE, "ActionIdentifier", str(n))
        obj = _sub(_sub(action, CORE, item.verb), CORE, "HI1Object")
        obj.set(f"{{{XSI}}}type", item.xsi_type)
        _sub(obj, CORE, "ObjectIdentifier", item.identifier)
        _sub(obj, CORE, "CountryCode", sender.country)
        _sub(obj, CORE, "OwnerIdentifier", sender.unique_id)
        if item.associated:
            assoc = _sub(obj, CORE, "AssociatedObjects")
            for ident in item.associated:
                _sub(assoc, CORE, "AssociatedObject", ident)
        for ns, name, value in item.fields:
            parent = obj
            if "/" in name:  # a field inside a group ("DocumentBody/Contents"): the group is made once
                group, name = name.split("/", 1)
                last = obj[-1] if len(obj) else None
                parent = last if last is not None and last.tag == f"{{{ns}}}{group}" else _sub(obj, ns, group)
            if isinstance(value, tuple):
                _dictionary(parent, ns, name, value[0], value[1])
            else:
                _sub(parent, ns, name, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def document_body(content: bytes, content_type: str) -> tuple[tuple[str, str, str | tuple[str, str]], ...]:
    """Inline bytes of a DocumentObject or DeliveryObject (base64), with their type."""
    # Inside DocumentBody, Contents then ContentType, as the inbound reader and the public
    # converter of the EU forms have them (the WISP simulator's e2e test found it flat).
    return (
        (DOC, "DocumentBody/Contents", base64.b64encode(content).decode("ascii")),
        (DOC, "DocumentBody/ContentType", content_type),
    )
