"""A small, independent builder of the HI-1 messages a Member State sends through WISP, for
the tests: plain strings, written from docs/e-evidence.md and TS 103 120 as the public
converter of Form 1 to HI-1 shows it, never from the adapter's wire.py (so that a
misunderstanding there is not hidden here)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape

CORE = "http://uri.etsi.org/03120/common/2019/10/Core"
NS = (
    f'xmlns="{CORE}" '
    'xmlns:common="http://uri.etsi.org/03120/common/2016/02/Common" '
    'xmlns:auth="http://uri.etsi.org/03120/common/2020/09/Authorisation" '
    'xmlns:task="http://uri.etsi.org/03120/common/2020/09/Task" '
    'xmlns:doc="http://uri.etsi.org/03120/common/2020/09/Document" '
    'xmlns:notification="http://uri.etsi.org/03120/common/2016/02/Notification" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
RECEIVER = "CSP-IE-1"


def uid() -> str:
    return str(uuid.uuid4())


def dictionary(tag: str, name: str, value: str) -> str:
    return (
        f"<{tag}><common:Owner>ETSI</common:Owner><common:Name>{name}</common:Name><common:Value>{value}</common:Value></{tag}>"
    )


def obj(verb: str, kind: str, ident: str, inner: str, *, associated: list[str] | None = None, n: int = 0) -> str:
    assoc = "".join(f"<AssociatedObject>{a}</AssociatedObject>" for a in associated or [])
    assoc = f"<AssociatedObjects>{assoc}</AssociatedObjects>" if assoc else ""
    return (
        f"<ActionRequest><ActionIdentifier>{n}</ActionIdentifier><{verb}>"
        f'<HI1Object xsi:type="{kind}"><ObjectIdentifier>{ident}</ObjectIdentifier>'
        f"<CountryCode>FR</CountryCode><OwnerIdentifier>FR-PARQUET-PARIS</OwnerIdentifier>{assoc}{inner}"
        f"</HI1Object></{verb}></ActionRequest>"
    )


def message(
    objects: list[str],
    *,
    transaction_id: str | None = None,
    receiver: str = RECEIVER,
    root_ns: str = CORE,
    sender: str = "FR-PARQUET-PARIS",
) -> bytes:
    ns = NS.replace(f'xmlns="{CORE}"', f'xmlns="{root_ns}"')
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    numbered = [
        o.replace("<ActionIdentifier>0</ActionIdentifier>", f"<ActionIdentifier>{i}</ActionIdentifier>", 1)
        for i, o in enumerate(objects)
    ]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><HI1Message {ns}><Header>'
        f"<SenderIdentifier><CountryCode>FR</CountryCode><UniqueIdentifier>{sender}</UniqueIdentifier></SenderIdentifier>"
        f"<ReceiverIdentifier><CountryCode>IE</CountryCode><UniqueIdentifier>{receiver}</UniqueIdentifier></ReceiverIdentifier>"
        f"<TransactionIdentifier>{transaction_id or uid()}</TransactionIdentifier><Timestamp>{now}</Timestamp>"
        "<Version><ETSIVersion>V1.18.1</ETSIVersion><NationalProfileOwner>EU</NationalProfileOwner>"
        "<NationalProfileVersion>v1.2.1</NationalProfileVersion></Version></Header>"
        f"<Payload><RequestPayload><ActionRequests>{''.join(numbered)}</ActionRequests></RequestPayload></Payload></HI1Message>"
    ).encode()


@dataclass
class OrderMessage:
    """Form 1 (EPOC), Form 2 (EPOC-PR) or Form 5 as HI-1 objects."""

    legal_type: str = "EPOC"
    priority: str = "TenDaysASAP"
    role: str = "JudgeCourtOrInvestigatingJudge"
    request_types: list[str] = field(default_factory=lambda: ["SubscriberData"])
    target: str = "@Suspect_One"
    linked_pr: str | None = None
    transaction_id: str = field(default_factory=uid)
    auth_id: str = field(default_factory=uid)
    task_ids: list[str] = field(default_factory=lambda: [uid()])

    def bytes(self) -> bytes:
        linked = f"<auth:LinkedEPOCPRTransactionId>{self.linked_pr}</auth:LinkedEPOCPRTransactionId>" if self.linked_pr else ""
        auth = (
            "<auth:AuthorisationReference>JI-2026-0042</auth:AuthorisationReference>"
            + dictionary("auth:AuthorisationLegalType", "EPOCLegalType", self.legal_type)
            + dictionary("auth:AuthorisationPriority", "EPOCPriority", self.priority)
            + "<auth:AuthorisationApprovalDetails><common:ApprovalType>IssuingAuthority</common:ApprovalType>"
            + f"<common:ApproverDetails><common:ApproverName>Juge d'instruction, TJ Paris</common:ApproverName><common:ApproverRole>{self.role}</common:ApproverRole></common:ApproverDetails>"
            + "</auth:AuthorisationApprovalDetails>"
            + "<auth:AuthorisationTypeOfCase>Extortion (art. 312-1 code penal)</auth:AuthorisationTypeOfCase>"
            + "<auth:AuthorisationManualInformation>The account sent the threats; subscriber data identify the author.</auth:AuthorisationManualInformation>"
            + linked
        )
        objects = [obj("CREATE", "auth:AuthorisationObject", self.auth_id, auth)]
        for task_id in self.task_ids:
            types = "".join(dictionary("task:Type", "RequestType", t) for t in self.request_types)
            inner = (
                f"<task:Reference>LD-{task_id[:8]}</task:Reference>"
                + dictionary("task:DesiredStatus", "LDTaskDesiredStatus", "AwaitingDisclosure")
                + f"<task:RequestDetails>{types}<task:RequestValues><task:RequestValue><task:FormatType><task:FormatOwner>ETSI</task:FormatOwner>"
                + f"<task:FormatName>InternationalE164</task:FormatName></task:FormatType><task:Value>{escape(self.target)}</task:Value></task:RequestValue></task:RequestValues></task:RequestDetails>"
            )
            objects.append(obj("CREATE", "task:LDTaskObject", task_id, inner, associated=[self.auth_id]))
        return message(objects, transaction_id=self.transaction_id)


def document(
    auth_id: str,
    document_type: str,
    *,
    properties: list[tuple[str, str]] | None = None,
    text: str = "",
    transaction_id: str | None = None,
) -> bytes:
    props = "".join(
        f"<doc:DocumentProperty>{dictionary('doc:PropertyType', 'EPOCDocumentProperty', k)}<doc:PropertyValue>{v}</doc:PropertyValue></doc:DocumentProperty>"
        for k, v in properties or []
    )
    body = (
        f"<doc:DocumentBody><doc:Contents>{base64.b64encode(text.encode()).decode()}</doc:Contents><doc:ContentType>text/plain</doc:ContentType></doc:DocumentBody>"
        if text
        else ""
    )
    inner = (
        dictionary("doc:DocumentType", "EPOCDocumentType", document_type)
        + (f"<doc:DocumentProperties>{props}</doc:DocumentProperties>" if props else "")
        + body
    )
    return message([obj("CREATE", "doc:DocumentObject", uid(), inner, associated=[auth_id])], transaction_id=transaction_id)


def delivery_status(task_id: str, status: str, details: str = "") -> bytes:
    inner = (
        dictionary("notification:NotificationType", "EPOCDeliveryStatus", status)
        + f"<notification:NotificationDetails>{details}</notification:NotificationDetails>"
    )
    return message([obj("CREATE", "notification:NotificationObject", uid(), inner, associated=[task_id])])
