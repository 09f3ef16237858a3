"""The simulator's own builders of the messages the Member State side sends to a provider's
WISP endpoints (`POST /eevidence/<path>`): TS 103 120 `HI1Message` envelopes with the objects
ETSI TS 104 144 profiles for e-Evidence.

Written from the reading recorded in docs/e-evidence.md ("The simulator's reading"), apart
from the provider's adapter: the header (sender, receiver, transaction id, timestamp,
version), `ActionRequests` with one `CREATE` or `UPDATE` per object, objects as
`HI1Object` with `xsi:type` (TS 103 120 clause 6), dictionary values as
`common:Owner/Name/Value` with owner `ETSI`."""

from __future__ import annotations

import base64
import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from trustdesk_wispsim import namespaces as ns


class Priority(enum.StrEnum):
    """`EPOCPriority` (Form 1, Section B/C): eight hours in an emergency, ten days, or ten days
    with the enforcing authority notified (Art. 8, 10 of Reg. 2023/1543)."""

    EIGHT_HOURS = "EightHours"
    TEN_DAYS_ASAP = "TenDaysASAP"
    TEN_DAYS_SUBJECT_TO_EA = "TenDaysSubjectToEA"


class ApproverRole(enum.StrEnum):
    JUDGE = "JudgeCourtOrInvestigatingJudge"
    PROSECUTOR = "PublicProsecutor"
    OTHER = "OtherCompetentAuthority"


class RequestType(enum.StrEnum):
    """The data categories of Art. 3(9)-(12), as TS 103 120 `RequestType` values."""

    SUBSCRIBER = "SubscriberData"
    USER_IDENTIFYING = "UserIdentifyingData"
    TRAFFIC = "TrafficData"
    CONTENT = "StoredContentData"


class Refusal(enum.StrEnum):
    FULL = "FullGroundsForRefusal"
    PARTIAL = "PartialGroundsForRefusal"
    NONE = "NoGroundsForRefusal"


class Delivery(enum.StrEnum):
    RECEIVED = "Received"
    ERROR = "Error"


CORRESPONDENCE_FROM_AUTHORITIES = (
    "RequestAdditionalInformation",
    "ProvideAdditionalInformation",
    "Maintain",
    "ProceedingToCourt",
    "EnforcingAuthorityAgreesWithObjection",
    "EnforcingAuthorityDisagreesWithObjection",
    "EnforcingAuthorityRecognizesOrder",
    "EnforcingAuthorityDoesNotRecogniseOrder",
    "EnforcementProceduresInitiated",
)


@dataclass(frozen=True)
class Party:
    """A header identifier: the country and the unique identifier of a WISP participant."""

    country: str
    identifier: str


@dataclass(frozen=True)
class Target:
    """What a task asks about: a TS 103 120 target format (`ServiceAccessIdentifier`,
    `InternationalizedEmailAddress`, `InternationalE164`, ...) and its value."""

    format_name: str
    value: str


@dataclass(frozen=True)
class Order:
    """One EPOC (Form 1) or EPOC-PR (Form 2) as the issuing authority sends it."""

    legal_type: str  # "EPOC" or "EPOC-PR"
    reference: str
    issuing_authority: str
    approver_role: ApproverRole
    targets: Sequence[Target]
    categories: Sequence[RequestType]
    priority: Priority | None = None  # EPOC only
    emergency: bool = False
    offence: str = "Extortion (art. 312-1 code pénal)"  # Form 1 Section E
    grounds: str = "The account sent the threats; subscriber data identify the author."  # Form 1 Section E, the reasons
    authorisation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    task_ids: tuple[str, ...] = ()

    def with_tasks(self) -> Order:
        """The order with one task id per target (kept when already set)."""
        if self.task_ids:
            return self
        ids = tuple(str(uuid.uuid5(uuid.UUID(self.authorisation_id), t.value)) for t in self.targets)
        return Order(**{**self.__dict__, "task_ids": ids})


@dataclass(frozen=True)
class Message:
    """One message ready to POST: the endpoint path under /eevidence/, its transaction id,
    the object it is about, and the XML bytes."""

    path: str
    transaction_id: str
    authorisation_id: str
    body: bytes
    kind: str = ""


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _sub(parent: etree._Element, namespace: str, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, _q(namespace, tag))
    if text is not None:
        child.text = text
    return child


def _dictionary(parent: etree._Element, namespace: str, tag: str, name: str, value: str) -> etree._Element:
    entry = _sub(parent, namespace, tag)
    _sub(entry, ns.COMMON, "Owner", "ETSI")
    _sub(entry, ns.COMMON, "Name", name)
    _sub(entry, ns.COMMON, "Value", value)
    return entry


def timestamp(at: datetime) -> str:
    """TS 103 120 timestamps: UTC, `Z`, no sub-second digits."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Envelope:
    """An `HI1Message` being built: header first, then one action per object."""

    def __init__(self, *, sender: Party, receiver: Party, at: datetime, transaction_id: str | None = None) -> None:
        self.transaction_id = transaction_id or str(uuid.uuid4())
        self.root = etree.Element(_q(ns.CORE, "HI1Message"), nsmap=ns.NSMAP)  # type: ignore[arg-type]
        header = _sub(self.root, ns.CORE, "Header")
        for tag, party in (("SenderIdentifier", sender), ("ReceiverIdentifier", receiver)):
            identifier = _sub(header, ns.CORE, tag)
            _sub(identifier, ns.CORE, "CountryCode", party.country)
            _sub(identifier, ns.CORE, "UniqueIdentifier", party.identifier)
        _sub(header, ns.CORE, "TransactionIdentifier", self.transaction_id)
        _sub(header, ns.CORE, "Timestamp", timestamp(at))
        version = _sub(header, ns.CORE, "Version")
        _sub(version, ns.CORE, "ETSIVersion", ns.ETSI_VERSION)
        _sub(version, ns.CORE, "NationalProfileOwner", ns.PROFILE_OWNER)
        _sub(version, ns.CORE, "NationalProfileVersion", ns.PROFILE_VERSION)
        payload = _sub(self.root, ns.CORE, "Payload")
        self.actions = _sub(_sub(payload, ns.CORE, "RequestPayload"), ns.CORE, "ActionRequests")
        self.owner = sender

    def add(self, verb: str, concrete_type: str, object_id: str, associated: Iterable[str] = ()) -> etree._Element:
        """A new `ActionRequest` (`CREATE` or `UPDATE`) carrying one `HI1Object`; returns it."""
        action = _sub(self.actions, ns.CORE, "ActionRequest")
        _sub(action, ns.CORE, "ActionIdentifier", str(len(self.actions) - 1))
        obj = _sub(_sub(action, ns.CORE, verb), ns.CORE, "HI1Object")
        obj.set(_q(ns.XSI, "type"), concrete_type)
        _sub(obj, ns.CORE, "ObjectIdentifier", object_id)
        _sub(obj, ns.CORE, "CountryCode", self.owner.country)
        _sub(obj, ns.CORE, "OwnerIdentifier", self.owner.identifier)
        links = list(associated)
        if links:
            group = _sub(obj, ns.CORE, "AssociatedObjects")
            for link in links:
                _sub(group, ns.CORE, "AssociatedObject", link)
        return obj

    def bytes(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")


def _document(
    envelope: Envelope,
    *,
    about: str,
    document_type: str,
    name: str,
    contents: bytes,
    content_type: str,
    properties: Iterable[tuple[str, str]] = (),
) -> etree._Element:
    doc = envelope.add("CREATE", "doc:DocumentObject", str(uuid.uuid4()), [about])
    _sub(doc, ns.DOC, "DocumentName", name)
    _dictionary(doc, ns.DOC, "DocumentType", "EPOCDocumentType", document_type)
    items = list(properties)
    if items:
        group = _sub(doc, ns.DOC, "DocumentProperties")
        for key, value in items:
            prop = _sub(group, ns.DOC, "DocumentProperty")
            _dictionary(prop, ns.DOC, "PropertyType", "EPOCDocumentProperty", key)
            _sub(prop, ns.DOC, "PropertyValue", value)
    body = _sub(doc, ns.DOC, "DocumentBody")
    _sub(body, ns.DOC, "Contents", base64.b64encode(contents).decode())
    _sub(body, ns.DOC, "ContentType", content_type)
    return doc


def _form_xml(namespace: str, root: str, order: Order) -> bytes:
    """A small rendering of the EU form itself (the annex's sections the workflow reads), put
    in the form's `DocumentObject` next to the HI-1 objects that carry the same facts."""
    form = etree.Element(_q(namespace, root), nsmap={None: namespace})
    _sub(form, namespace, "FileReference", order.reference)
    _sub(form, namespace, "IssuingAuthority", order.issuing_authority)
    _sub(form, namespace, "EmergencyCase", "true" if order.emergency else "false")
    for target in order.targets:
        _sub(form, namespace, "Identifier", target.value).set("type", target.format_name)
    return etree.tostring(form, xml_declaration=True, encoding="UTF-8")


def _authorisation(envelope: Envelope, order: Order, *, desired_status: str = "SubmittedToCSP") -> etree._Element:
    auth = envelope.add("CREATE", "auth:AuthorisationObject", order.authorisation_id)
    _sub(auth, ns.AUTH, "AuthorisationReference", order.reference)
    _dictionary(auth, ns.AUTH, "AuthorisationLegalType", "EPOCLegalType", order.legal_type)
    if order.priority is not None:
        _dictionary(auth, ns.AUTH, "AuthorisationPriority", "EPOCPriority", order.priority.value)
    _dictionary(auth, ns.AUTH, "AuthorisationDesiredStatus", "AuthorisationDesiredStatus", desired_status)
    if order.offence:
        _dictionary(auth, ns.AUTH, "AuthorisationTypeOfCase", "EPOCTypeOfCase", order.offence)
    if order.grounds:
        _sub(auth, ns.AUTH, "AuthorisationManualInformation", order.grounds)
    approval = _sub(auth, ns.AUTH, "AuthorisationApprovalDetails")
    _sub(approval, ns.COMMON, "ApprovalType", "IssuingAuthority")
    approver = _sub(approval, ns.COMMON, "ApproverDetails")
    _sub(approver, ns.COMMON, "ApproverName", order.issuing_authority)
    _sub(approver, ns.COMMON, "ApproverRole", order.approver_role.value)
    if order.emergency:
        flags = _sub(auth, ns.AUTH, "AuthorisationFlags")
        _dictionary(flags, ns.AUTH, "AuthorisationFlag", "AuthorisationFlag", "IsEmergency")
    if order.priority is Priority.TEN_DAYS_SUBJECT_TO_EA:
        flags = auth.find(_q(ns.AUTH, "AuthorisationFlags"))
        if flags is None:
            flags = _sub(auth, ns.AUTH, "AuthorisationFlags")
        _dictionary(flags, ns.AUTH, "AuthorisationFlag", "EPOCAuthorisationFlag", "EnforcingAuthorityNotified")
    return auth


def _tasks(envelope: Envelope, order: Order, *, concrete_type: str, desired_status: str) -> None:
    for task_id, target in zip(order.task_ids, order.targets, strict=True):
        task = envelope.add("CREATE", concrete_type, task_id, [order.authorisation_id])
        _sub(task, ns.TASK, "Reference", f"{order.reference}/{target.value}")
        _dictionary(task, ns.TASK, "DesiredStatus", concrete_type.split(":")[1] + "DesiredStatus", desired_status)
        details = _sub(task, ns.TASK, "RequestDetails")
        for category in order.categories:
            _dictionary(details, ns.TASK, "Type", "RequestType", category.value)
        values = _sub(_sub(details, ns.TASK, "RequestValues"), ns.TASK, "RequestValue")
        fmt = _sub(values, ns.TASK, "FormatType")
        _sub(fmt, ns.TASK, "FormatOwner", "ETSI")
        _sub(fmt, ns.TASK, "FormatName", target.format_name)
        _sub(values, ns.TASK, "Value", target.value)


def production(order: Order, *, sender: Party, receiver: Party, at: datetime) -> Message:
    """Form 1, the EPOC (Annex I): the authorisation, one `LDTask` per target, the form."""
    order = order.with_tasks()
    envelope = Envelope(sender=sender, receiver=receiver, at=at)
    _authorisation(envelope, order)
    _tasks(envelope, order, concrete_type="task:LDTaskObject", desired_status="AwaitingDisclosure")
    _document(
        envelope,
        about=order.authorisation_id,
        document_type="Form1",
        name="EPOC (Form 1)",
        contents=_form_xml(ns.FORM1, "epocForm1", order),
        content_type="application/xml",
    )
    return Message("production", envelope.transaction_id, order.authorisation_id, envelope.bytes(), "Form1")


def preservation(order: Order, *, sender: Party, receiver: Party, at: datetime) -> Message:
    """Form 2, the EPOC-PR (Annex II): the authorisation, one `LPTask` per target, the form."""
    order = order.with_tasks()
    envelope = Envelope(sender=sender, receiver=receiver, at=at)
    _authorisation(envelope, order)
    _tasks(envelope, order, concrete_type="task:LPTaskObject", desired_status="AwaitingPreservation")
    _document(
        envelope,
        about=order.authorisation_id,
        document_type="Form2",
        name="EPOC-PR (Form 2)",
        contents=_form_xml(ns.FORM2, "epocPrForm2", order),
        content_type="application/xml",
    )
    return Message("preservation", envelope.transaction_id, order.authorisation_id, envelope.bytes(), "Form2")


def subsequent_production(order: Order, *, linked_transaction_id: str, sender: Party, receiver: Party, at: datetime) -> Message:
    """Form 5 (Annex V): production of data preserved under an EPOC-PR, linked to that EPOC-PR
    by the transaction id it came in (`LinkedEPOCPRTransactionId`, a document property here)."""
    order = order.with_tasks()
    envelope = Envelope(sender=sender, receiver=receiver, at=at)
    _authorisation(envelope, order)
    _tasks(envelope, order, concrete_type="task:LDTaskObject", desired_status="AwaitingDisclosure")
    _document(
        envelope,
        about=order.authorisation_id,
        document_type="Form5",
        name="Subsequent production (Form 5)",
        contents=_form_xml(ns.FORM5, "epocPrForm5", order),
        content_type="application/xml",
        properties=[("LinkedEPOCPRTransactionId", linked_transaction_id)],
    )
    return Message("subsequentproduction", envelope.transaction_id, order.authorisation_id, envelope.bytes(), "Form5")


def preservation_extension(authorisation_id: str, *, days: int, sender: Party, receiver: Party, at: datetime) -> Message:
    """Form 6 (Annex VI): the preservation extended (by up to 30 days, Art. 11(1))."""
    envelope = Envelope(sender=sender, receiver=receiver, at=at)
    form = etree.Element(_q(ns.FORM6, "epocPrForm6"), nsmap={None: ns.FORM6})
    _sub(form, ns.FORM6, "ExtensionDays", str(days))
    _document(
        envelope,
        about=authorisation_id,
        document_type="Form6",
        name="Preservation extension (Form 6)",
        contents=etree.tostring(form, xml_declaration=True, encoding="UTF-8"),
        content_type="application/xml",
        properties=[("ExtensionDays", str(days))],
    )
    return Message("preservationextension", envelope.transaction_id, authorisation_id, envelope.bytes(), "Form6")


def grounds_for_refusal(
    authorisation_id: str,
    decision: Refusal,
    *,
    refused: Iterable[RequestType] = (),
    reason: str = "",
    sender: Party,
    receiver: Party,
    at: datetime,
) -> Message:
    """The enforcing authority's decision (Art. 12): full, partial (the refused categories as
    `RefusedCategory` properties) or no grounds for refusal."""
    refused = list(refused)
    if (decision is Refusal.PARTIAL) != bool(refused):
        raise ValueError("a partial refusal names the refused categories, and only a partial one does")
    envelope = Envelope(sender=sender, receiver=receiver, at=at)
    _document(
        envelope,
        about=authorisation_id,
        document_type=decision.value,
        name=decision.value,
        contents=(reason or decision.value).encode(),
        content_type="text/plain",
        properties=[("RefusedCategory", c.value) for c in refused],
    )
    return Message("groundsforrefusal", envelope.transaction_id, authorisation_id, envelope.bytes(), decision.value)


def _status_update(
    path: str, authorisation_id: str, status: str, *, sender: Party, receiver: Party, at: datetime, **extra: str
) -> Message:
    envelope = Envelope(sender=sender, receiver=receiver, at=at)
    auth = envelope.add("UPDATE", "auth:AuthorisationObject", authorisation_id)
    _dictionary(auth, ns.AUTH, "AuthorisationDesiredStatus", "AuthorisationDesiredStatus", status)
    if "deadline" in extra:
        span = _sub(auth, ns.AUTH, "AuthorisationTimespan")
        _sub(span, ns.AUTH, "EndTime", extra["deadline"])
    return Message(path, envelope.transaction_id, authorisation_id, envelope.bytes(), status)


def end_preservation(authorisation_id: str, *, sender: Party, receiver: Party, at: datetime) -> Message:
    """The issuing authority ends a preservation (Art. 11(1)): the authorisation's desired
    status becomes `Ended`."""
    return _status_update("endpreservation", authorisation_id, "Ended", sender=sender, receiver=receiver, at=at)


def new_deadline(authorisation_id: str, deadline: datetime, *, sender: Party, receiver: Party, at: datetime) -> Message:
    """A new deadline: the authorisation's time span ends at `deadline`."""
    return _status_update(
        "newdeadline", authorisation_id, "SubmittedToCSP", sender=sender, receiver=receiver, at=at, deadline=timestamp(deadline)
    )


def withdraw(authorisation_id: str, *, sender: Party, receiver: Party, at: datetime) -> Message:
    """The order is withdrawn: desired status `Cancelled`; the provider confirms it
    (`confirmwithdrawal`) once a person has."""
    return _status_update("withdraw", authorisation_id, "Cancelled", sender=sender, receiver=receiver, at=at)


def delivery_status(
    authorisation_id: str, task_id: str, status: Delivery, *, details: str = "", sender: Party, receiver: Party, at: datetime
) -> Message:
    """The issuing authority's acknowledgement of one task's delivery: `Received`, or `Error`
    (the task may then be delivered again). One NotificationObject per task, associated with
    the task first; its NotificationType is the status (the end-to-end test found the adapter
    reads it there), and its StatusOfAssociatedObjects says the same per task."""
    envelope = Envelope(sender=sender, receiver=receiver, at=at)
    note = envelope.add("CREATE", "notify:NotificationObject", str(uuid.uuid4()), [task_id, authorisation_id])
    _sub(note, ns.NOTIFY, "NotificationDetails", details or f"Delivery {status.value}")
    _dictionary(note, ns.NOTIFY, "NotificationType", "EPOCNotificationType", status.value)
    _sub(note, ns.NOTIFY, "NewNotification", "true")
    _sub(note, ns.NOTIFY, "NotificationTimestamp", timestamp(at))
    statuses = _sub(note, ns.NOTIFY, "StatusOfAssociatedObjects")
    item = _sub(statuses, ns.NOTIFY, "AssociatedObjectStatus")
    _sub(item, ns.NOTIFY, "AssociatedObject", task_id)
    _dictionary(item, ns.NOTIFY, "Status", "DeliveryStatus", status.value)
    if details:
        _sub(item, ns.NOTIFY, "Details", details)
    return Message("deliverystatus", envelope.transaction_id, authorisation_id, envelope.bytes(), status.value)


def correspondence(
    authorisation_id: str, document_type: str, text: str, *, sender: Party, receiver: Party, at: datetime
) -> Message:
    """Formal correspondence from the issuing or enforcing authority, threaded on the order."""
    if document_type not in CORRESPONDENCE_FROM_AUTHORITIES:
        raise ValueError(f"not a correspondence type an authority sends: {document_type}")
    envelope = Envelope(sender=sender, receiver=receiver, at=at)
    _document(
        envelope,
        about=authorisation_id,
        document_type=document_type,
        name=document_type,
        contents=text.encode(),
        content_type="text/plain",
    )
    return Message("correspondence", envelope.transaction_id, authorisation_id, envelope.bytes(), document_type)
