"""The simulator's check of a signed Form 3 PDF, with pyHanko's validator: the signature is
intact, cryptographically valid, covers the whole file, and (when trust roots are given)
chains to one of them."""

from __future__ import annotations

import io
from pathlib import Path

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext


def load_roots(paths: list[Path]) -> list[x509.Certificate]:
    roots = []
    for path in paths:
        data = path.read_bytes()
        if pem.detect(data):
            data = pem.unarmor(data)[2]
        roots.append(x509.Certificate.load(data))
    return roots


def problems(pdf: bytes, roots: list[x509.Certificate] | None = None) -> list[str]:
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        signatures = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 - any parse failure is the finding
        return [f"the Form 3 PDF cannot be read: {exc}"]
    if not signatures:
        return ["the Form 3 PDF has no embedded signature"]
    found = []
    context = ValidationContext(trust_roots=roots or [], allow_fetching=False)
    for signature in signatures:
        status = validate_pdf_signature(signature, context)
        if not status.intact or not status.valid:
            found.append("the Form 3 signature does not verify (the document was changed after signing)")
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            found.append("the Form 3 signature does not cover the whole file")
        if roots and not status.trusted:
            found.append("the Form 3 signer is not one WISP trusts")
    return found
