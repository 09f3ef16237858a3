"""Provider calls built for the simulator's rule tests (a test's stand-in for the adapter)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from lxml import etree

from trustdesk_wispsim import messages
from trustdesk_wispsim import namespaces as ns

ME = messages.Party("FR", "FR-TJ-PARIS")
PROVIDER = messages.Party("IE", "TRUSTDESK")


def _sub(parent: etree._Element, namespace: str, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{namespace}}}{tag}")
    child.text = text
    return child


def _entry(parent: etree._Element, namespace: str, tag: str, name: str, value: str) -> None:
    entry = _sub(parent, namespace, tag)
    _sub(entry, ns.COMMON, "Owner", "ETSI")
    _sub(entry, ns.COMMON, "Name", name)
    _sub(entry, ns.COMMON, "Value", value)


def outcome(authorisation_id: str, task_id: str, *, categories: tuple[str, ...] = ("SubscriberData",)) -> bytes:
    envelope = messages.Envelope(sender=PROVIDER, receiver=ME, at=datetime.now(UTC))
    delivery = envelope.add("CREATE", "delivery:DeliveryObject", "d-1", [task_id, authorisation_id])
    for category in categories:
        _entry(delivery, ns.TASK, "Type", "RequestType", category)
    _sub(delivery, ns.DOC, "Contents", base64.b64encode(b"subscriber: u1001").decode())
    return envelope.bytes()


def nonexecution(
    authorisation_id: str, reason: str, pdf: bytes, *, fields: tuple[str, ...] = (), content_type: str = "application/pdf"
) -> bytes:
    envelope = messages.Envelope(sender=PROVIDER, receiver=ME, at=datetime.now(UTC))
    note = envelope.add("CREATE", "notify:NotificationObject", "n-1", [authorisation_id])
    _entry(note, ns.NOTIFY, "NotificationType", "EPOCNotificationType", reason)
    doc = envelope.add("CREATE", "doc:DocumentObject", "f3-1", [authorisation_id])
    _entry(doc, ns.DOC, "DocumentType", "EPOCDocumentType", "Form3")
    props = _sub(doc, ns.DOC, "DocumentProperties")
    for name in fields:
        prop = _sub(props, ns.DOC, "DocumentProperty")
        _entry(prop, ns.DOC, "PropertyType", "EPOCDocumentProperty", name)
        _sub(prop, ns.DOC, "PropertyValue", f"{name} text")
    body = _sub(doc, ns.DOC, "DocumentBody")
    _sub(body, ns.DOC, "Contents", base64.b64encode(pdf).decode())
    _sub(body, ns.DOC, "ContentType", content_type)
    return envelope.bytes()


def simple(authorisation_id: str, *, document_type: str | None = None) -> bytes:
    envelope = messages.Envelope(sender=PROVIDER, receiver=ME, at=datetime.now(UTC))
    obj = envelope.add("CREATE", "notify:NotificationObject", "n-2", [authorisation_id])
    if document_type:
        obj = envelope.add("CREATE", "doc:DocumentObject", "c-1", [authorisation_id])
        _entry(obj, ns.DOC, "DocumentType", "EPOCDocumentType", document_type)
    return envelope.bytes()
