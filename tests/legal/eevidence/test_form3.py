"""Form 3 (Annex III): complete before it is signed, senior sign-off where a reason needs one,
and a PAdES signature that pyHanko validates over the whole document and that any change
breaks."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from trustdesk.legal.eevidence import form3
from trustdesk.legal.eevidence.form3 import ConflictOfLaw, Form3, Reason, SignOff
from trustdesk_wispsim import signature

AT = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
CONFLICT = ConflictOfLaw(
    third_country="US",
    law_and_provisions="18 U.S.C. 2702(a) (Stored Communications Act)",
    conflicting_obligation="A provider may not disclose the contents of a communication it stores.",
    why_applicable="The content is stored by the provider's US entity for a US person.",
    provider_link="The provider's parent is incorporated in Delaware and operates the storage.",
    consequences="Civil liability under 18 U.S.C. 2707.",
)
SENIOR = SignOff(staff_id="7", name="Sam Senior", at=AT, may_approve=True)


def form(**overrides: object) -> Form3:
    fields: dict[str, object] = {
        "authorisation_id": "5a1f7c1e-0000-4000-8000-000000000001",
        "transaction_id": "5a1f7c1e-0000-4000-8000-000000000002",
        "order_reference": "JI-2026-0042",
        "issuing_authority": "Juge d'instruction, TJ Paris",
        "provider": "Demo Messenger Ltd",
        "reasons": (Reason.DATA_NOT_HELD,),
        "explanation": "The account u1001 never existed on the service (no registration record).",
        "prepared_by": "3",
        "prepared_at": AT,
    }
    return Form3(**(fields | overrides))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> form3.PadesKey:
    return form3.development_key(tmp_path_factory.mktemp("pades"), organisation="Demo Messenger Ltd")


def test_the_ten_reasons_are_annex_iii_section_d() -> None:
    assert {r.value for r in Reason} == {
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
    assert {
        Reason.CONFLICT_OF_LAW,
        Reason.IMMUNITIES_OR_PRIVILEGES,
        Reason.INVALID_ISSUING_AUTHORITY,
    } <= form3.NEEDS_SENIOR_SIGN_OFF
    assert Reason.DATA_NOT_HELD not in form3.NEEDS_SENIOR_SIGN_OFF


def test_a_signed_form_validates_over_the_whole_document(key: form3.PadesKey) -> None:
    pdf = form3.sign(form(), key)
    assert pdf.startswith(b"%PDF-") and b"/ByteRange" in pdf
    result = form3.verify(pdf, [key.certificate()])
    assert result == form3.Verification(signed=True, intact=True, whole_document=True, trusted=True)
    assert result.ok


def test_tampering_breaks_the_signature(key: form3.PadesKey) -> None:
    pdf = form3.sign(form(), key)
    at = pdf.index(b"u1001")
    tampered = pdf[:at] + b"u1002" + pdf[at + 5 :]
    assert not form3.verify(tampered, [key.certificate()]).intact


def test_a_change_appended_after_signing_no_longer_covers_the_whole_document(key: form3.PadesKey) -> None:
    pdf = form3.sign(form(), key)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root["/Lang"] = generic.TextStringObject("fr")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    result = form3.verify(out.getvalue(), [key.certificate()])
    assert result.intact and not result.whole_document and not result.ok


def test_a_signer_the_authority_does_not_trust_is_not_trusted(key: form3.PadesKey, tmp_path: Path) -> None:
    other = form3.development_key(tmp_path, organisation="Someone Else")
    result = form3.verify(form3.sign(form(), key), [other.certificate()])
    assert result.intact and not result.trusted and not result.ok


def test_an_unsigned_or_unreadable_file_is_not_signed(key: form3.PadesKey) -> None:
    assert not form3.verify(form3.render(form()), [key.certificate()]).signed
    assert not form3.verify(b"not a pdf", [key.certificate()]).signed


def test_conflict_of_law_needs_every_field_of_section_e(key: form3.PadesKey) -> None:
    bare = form(reasons=(Reason.CONFLICT_OF_LAW,), sign_off=SENIOR)
    assert "ConflictOfLaw needs the facts of Section E" in form3.problems(bare)
    partial = dataclasses.replace(bare, conflict_of_law=dataclasses.replace(CONFLICT, provider_link=" ", consequences=""))
    assert form3.problems(partial) == ["ConflictOfLaw is missing provider_link, consequences"]
    with pytest.raises(form3.Form3Error):
        form3.sign(partial, key)
    full = dataclasses.replace(bare, conflict_of_law=CONFLICT)
    assert form3.problems(full) == []
    assert form3.structured(full)["ThirdCountry"] == "US"
    pdf = form3.sign(full, key)
    assert form3.verify(pdf, [key.certificate()]).ok
    assert form3.problems(form(conflict_of_law=CONFLICT)) == ["Section E is only for ConflictOfLaw"]


@pytest.mark.parametrize("reason", sorted(form3.NEEDS_SENIOR_SIGN_OFF))
def test_legal_reasons_need_a_senior_sign_off_by_another_person(reason: Reason) -> None:
    extra = {"conflict_of_law": CONFLICT} if reason is Reason.CONFLICT_OF_LAW else {}
    assert "these reasons need a senior legal officer's sign-off" in form3.problems(form(reasons=(reason,), **extra))
    junior = dataclasses.replace(SENIOR, may_approve=False)
    assert "the sign-off is not by a legal officer who may approve" in form3.problems(
        form(reasons=(reason,), sign_off=junior, **extra)
    )
    self_signed = dataclasses.replace(SENIOR, staff_id="3")
    assert any("someone other" in p for p in form3.problems(form(reasons=(reason,), sign_off=self_signed, **extra)))
    assert form3.problems(form(reasons=(reason,), sign_off=SENIOR, **extra)) == []


@pytest.mark.parametrize("reason", sorted(set(Reason) - form3.NEEDS_SENIOR_SIGN_OFF))
def test_factual_reasons_need_no_senior_sign_off(reason: Reason) -> None:
    assert form3.problems(form(reasons=(reason,))) == []


def test_empty_or_repeated_reasons_and_no_explanation_are_refused() -> None:
    assert "Form 3 needs at least one reason of Section D" in form3.problems(form(reasons=()))
    assert "a reason is given twice" in form3.problems(form(reasons=(Reason.DATA_NOT_HELD, Reason.DATA_NOT_HELD)))
    assert "the reasons need an explanation" in form3.problems(form(explanation="  "))


def test_a_long_form_spans_pages_and_text_is_escaped(key: form3.PadesKey) -> None:
    long = form(explanation="(parenthesised) back\\slash éé " * 400, information_required="The account's handle.")
    pdf = form3.render(long)
    assert pdf.count(b"/Type /Page ") > 1
    assert form3.verify(form3.sign(long, key), [key.certificate()]).ok


def test_the_key_is_configured_or_made_for_development(tmp_path: Path) -> None:
    made = form3.pades_key(cert_file=None, key_file=None, data_dir=tmp_path, organisation="X", production=False)
    assert made.key_file.stat().st_mode & 0o077 == 0
    assert form3.pades_key(cert_file=None, key_file=None, data_dir=tmp_path, organisation="X", production=False) == made
    assert (
        form3.pades_key(cert_file=made.cert_file, key_file=made.key_file, data_dir=tmp_path, organisation="X", production=True)
        == made
    )
    with pytest.raises(ValueError, match="production"):
        form3.pades_key(cert_file=None, key_file=None, data_dir=tmp_path, organisation="X", production=True)
    with pytest.raises(ValueError, match="both"):
        form3.pades_key(cert_file=made.cert_file, key_file=None, data_dir=tmp_path, organisation="X", production=False)


def test_the_simulator_accepts_the_signed_form_and_refuses_a_tampered_one(key: form3.PadesKey) -> None:
    """The WISP simulator checks Form 3 with its own code (trustdesk_wispsim.signature)."""
    pdf = form3.sign(form(), key)
    roots = signature.load_roots([key.cert_file])
    assert signature.problems(pdf, roots) == []
    at = pdf.index(b"u1001")
    assert signature.problems(pdf[:at] + b"u1002" + pdf[at + 5 :], roots) != []
