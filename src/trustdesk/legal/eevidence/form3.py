"""Form 3 (Annex III of Regulation (EU) 2023/1543): the provider's notice that it cannot, or
will not, execute an EPOC or EPOC-PR, with the reason (one or more of the ten of Section D)
and, for a conflict with a third country's law (Art. 17), the structured facts of Section E.

The form is rendered as a PDF and signed with an advanced electronic signature (PAdES
baseline B-B, ETSI EN 319 142-1, made with pyHanko) under the provider's signing certificate
(`eevidence_pades_cert_file`/`eevidence_pades_key_file`; a self-signed one under
data_dir/keys in development). Art. 19 asks for a signature the receiving system can verify;
TS 104 144 carries the signed document in the `nonexecution` call's DocumentObject.

Reasons that make a legal claim about the order, rather than state a fact the case handler
can check, need a senior legal officer's sign-off before the form can be signed
(`NEEDS_SENIOR_SIGN_OFF`, docs/e-evidence.md says why for each)."""

from __future__ import annotations

import io
import os
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

DEV_KEY = Path("keys") / "form3-pades.key"
DEV_CERT = Path("keys") / "form3-pades.pem"
FIELD_NAME = "Form3Signature"


class Reason(StrEnum):
    """Annex III, Section D: why the order cannot be executed."""

    INCOMPLETE = "Incomplete"
    MANIFEST_ERRORS = "ManifestErrors"
    INSUFFICIENT_INFORMATION = "InsufficientInformation"
    DATA_NOT_HELD = "DataNotHeld"
    DE_FACTO_IMPOSSIBILITY = "DeFactoImpossibility"
    INVALID_ISSUING_AUTHORITY = "InvalidIssuingAuthority"
    OFFENCE_NOT_COVERED = "OffenceNotCovered"
    SERVICE_NOT_COVERED = "ServiceNotCovered"
    IMMUNITIES_OR_PRIVILEGES = "ImmunitiesOrPrivileges"
    CONFLICT_OF_LAW = "ConflictOfLaw"


# Legal assessments, not facts: each contests the order's lawfulness or scope, starts a
# procedure in the issuing or enforcing state (Art. 17 review of a conflict of law; Art. 12
# for immunities and privileges) or says the authority had no power to issue it (Art. 4).
NEEDS_SENIOR_SIGN_OFF = frozenset(
    {
        Reason.CONFLICT_OF_LAW,
        Reason.IMMUNITIES_OR_PRIVILEGES,
        Reason.INVALID_ISSUING_AUTHORITY,
        Reason.OFFENCE_NOT_COVERED,
        Reason.SERVICE_NOT_COVERED,
    }
)


@dataclass(frozen=True)
class ConflictOfLaw:
    """Annex III, Section E (Art. 17(1)): the facts a reasoned objection must give."""

    third_country: str
    law_and_provisions: str  # the law of the third country and its applicable provisions
    conflicting_obligation: str  # the nature of the conflicting obligation
    why_applicable: str  # why that law applies in this case
    provider_link: str  # the provider's link with that third country
    consequences: str  # the consequences for the provider of complying with the order

    def missing(self) -> list[str]:
        return [name for name, value in self.__dict__.items() if not value.strip()]


@dataclass(frozen=True)
class SignOff:
    """Who approved the form: a legal officer with approval rights (`disclosure:approve`),
    never the person who prepared it."""

    staff_id: str
    name: str
    at: datetime
    may_approve: bool


@dataclass(frozen=True)
class Form3:
    authorisation_id: str
    transaction_id: str
    order_reference: str
    issuing_authority: str
    provider: str
    reasons: tuple[Reason, ...]
    explanation: str
    prepared_by: str
    prepared_at: datetime
    conflict_of_law: ConflictOfLaw | None = None
    sign_off: SignOff | None = None
    information_required: str = ""  # Section F: what the issuing authority should supply
    preserved: bool | None = None  # Section G: whether the data are preserved meanwhile
    tasks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def needs_senior_sign_off(self) -> bool:
        return bool(set(self.reasons) & NEEDS_SENIOR_SIGN_OFF)


class Form3Error(ValueError):
    """The form is not complete enough to sign; `problems` says what is missing."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def problems(form: Form3) -> list[str]:
    """Everything that stops the form from being signed and sent."""
    found = []
    if not form.reasons:
        found.append("Form 3 needs at least one reason of Section D")
    if len(set(form.reasons)) != len(form.reasons):
        found.append("a reason is given twice")
    if not form.explanation.strip():
        found.append("the reasons need an explanation")
    if Reason.CONFLICT_OF_LAW in form.reasons:
        if form.conflict_of_law is None:
            found.append("ConflictOfLaw needs the facts of Section E")
        elif missing := form.conflict_of_law.missing():
            found.append(f"ConflictOfLaw is missing {', '.join(missing)}")
    elif form.conflict_of_law is not None:
        found.append("Section E is only for ConflictOfLaw")
    if form.needs_senior_sign_off:
        off = form.sign_off
        if off is None:
            found.append("these reasons need a senior legal officer's sign-off")
        elif not off.may_approve:
            found.append("the sign-off is not by a legal officer who may approve")
        elif off.staff_id == form.prepared_by:
            found.append("the sign-off must be by someone other than the person who prepared the form")
    return found


def structured(form: Form3) -> dict[str, object]:
    """The form's content as named fields, for the `nonexecution` call's structured part."""
    content: dict[str, object] = {
        "AuthorisationId": form.authorisation_id,
        "OrderReference": form.order_reference,
        "Reasons": [r.value for r in form.reasons],
        "Explanation": form.explanation,
        "InformationRequiredFromIssuingAuthority": form.information_required,
    }
    if form.conflict_of_law is not None:
        c = form.conflict_of_law
        content |= {
            "ThirdCountry": c.third_country,
            "LawAndProvisions": c.law_and_provisions,
            "ConflictingObligation": c.conflicting_obligation,
            "WhyApplicable": c.why_applicable,
            "ProviderLink": c.provider_link,
            "Consequences": c.consequences,
        }
    return content


def _lines(form: Form3) -> list[str]:
    lines = [
        "FORM 3 (Annex III, Regulation (EU) 2023/1543)",
        "Information on the impossibility to execute an EPOC / EPOC-PR",
        "",
        f"A. Issuing authority: {form.issuing_authority}",
        f"   File reference: {form.order_reference}",
        f"   WISP authorisation: {form.authorisation_id}",
        f"   Transaction: {form.transaction_id}",
        f"B. Addressee (service provider): {form.provider}",
        "D. Reasons:",
        *[f"   [x] {reason.value}" for reason in form.reasons],
        "   Explanation:",
        *[f"   {line}" for line in textwrap.wrap(form.explanation, 88)],
    ]
    if form.conflict_of_law is not None:
        c = form.conflict_of_law
        lines.append("E. Conflicting obligations under the law of a third country (Art. 17):")
        for label, value in (
            ("Third country", c.third_country),
            ("Law and provisions", c.law_and_provisions),
            ("Conflicting obligation", c.conflicting_obligation),
            ("Why the law applies", c.why_applicable),
            ("Provider's link to the country", c.provider_link),
            ("Consequences for the provider", c.consequences),
        ):
            lines += [f"   {label}:", *[f"     {line}" for line in textwrap.wrap(value, 84)]]
    if form.information_required:
        lines += [
            "F. Information required from the issuing authority:",
            *[f"   {x}" for x in textwrap.wrap(form.information_required, 88)],
        ]
    if form.preserved is not None:
        lines.append(f"G. Data preserved pending the answer: {'yes' if form.preserved else 'no'}")
    lines += ["", f"Prepared by {form.prepared_by} at {form.prepared_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"]
    if form.sign_off is not None:
        lines.append(f"Signed off by {form.sign_off.name} at {form.sign_off.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    return lines


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def render(form: Form3, *, lines_per_page: int = 60) -> bytes:
    """The unsigned PDF: A4 pages of Helvetica text, one object per page and content stream."""
    lines = _lines(form)
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)] or [[]]
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]  # the page tree is filled below
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for page in pages:
        text = b"BT /F1 10 Tf 12 TL 50 800 Td " + b" ".join(b"(" + _escape(line) + b") '" for line in page) + b" ET"
        objects.append(b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (font, content)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids)
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@dataclass(frozen=True)
class PadesKey:
    """The certificate and key Form 3 is signed with (PEM files)."""

    cert_file: Path
    key_file: Path

    def signer(self) -> signers.SimpleSigner:
        signer = signers.SimpleSigner.load(str(self.key_file), str(self.cert_file))
        if signer is None:
            raise ValueError(f"cannot load the PAdES key {self.key_file} and certificate {self.cert_file}")
        return signer

    def certificate(self) -> asn1_x509.Certificate:
        data = self.cert_file.read_bytes()
        return asn1_x509.Certificate.load(pem.unarmor(data)[2] if pem.detect(data) else data)


def sign(form: Form3, key: PadesKey, *, at: datetime | None = None) -> bytes:
    """The form rendered and signed (PAdES B-B over the whole file); raises `Form3Error` if
    it is not complete."""
    found = problems(form)
    if found:
        raise Form3Error(found)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=f"Form 3: {', '.join(r.value for r in form.reasons)}",
        name=form.provider,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(render(form)))
    signed = signers.sign_pdf(writer, meta, signer=key.signer())
    return signed.getvalue()


@dataclass(frozen=True)
class Verification:
    signed: bool
    intact: bool
    whole_document: bool
    trusted: bool

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.whole_document and self.trusted


def verify(pdf: bytes, trust: list[asn1_x509.Certificate]) -> Verification:
    """pyHanko's validation of the one signature: intact, covering the whole file, by a
    certificate that chains to `trust`."""
    try:
        signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    except Exception:  # noqa: BLE001 - an unreadable file is an unsigned one
        return Verification(False, False, False, False)
    if len(signatures) != 1:
        return Verification(bool(signatures), False, False, False)
    status = validate_pdf_signature(signatures[0], ValidationContext(trust_roots=trust, allow_fetching=False))
    return Verification(
        signed=True,
        intact=bool(status.intact and status.valid),
        whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        trusted=bool(status.trusted),
    )


def development_key(data_dir: Path, *, organisation: str) -> PadesKey:
    """A self-signed signing certificate under data_dir/keys, made on first use (development
    and tests only: an authority cannot trust it)."""
    key = PadesKey(data_dir / DEV_CERT, data_dir / DEV_KEY)
    if key.cert_file.exists() and key.key_file.exists():
        return key
    key.key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} Form 3 (development)"),
        ]
    )
    now = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(private, hashes.SHA256())
    )
    fd = os.open(key.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
    key.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key


def pades_key(*, cert_file: Path | None, key_file: Path | None, data_dir: Path, organisation: str, production: bool) -> PadesKey:
    """The configured certificate and key; in development, the self-signed one when none is
    configured. A production deployment must configure its own."""
    if cert_file is not None and key_file is not None:
        return PadesKey(cert_file, key_file)
    if cert_file is not None or key_file is not None:
        raise ValueError("set both eevidence_pades_cert_file and eevidence_pades_key_file, or neither")
    if production:
        raise ValueError("production needs eevidence_pades_cert_file and eevidence_pades_key_file (an AES certificate)")
    return development_key(data_dir, organisation=organisation)
