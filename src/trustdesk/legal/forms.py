"""Turning the portal's and the console's HTML forms into a `Submission`: the form follows
the instrument's own sections, so its fields are named `element.<section key>`."""

from __future__ import annotations

from datetime import UTC, datetime, time

from starlette.datastructures import FormData, UploadFile

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.attachments import MAX_BYTES, Upload
from trustdesk.legal.intake import Submission
from trustdesk.legal.targets import TargetItem

ELEMENT_PREFIX = "element."


def _date(value: str, *, end: bool) -> datetime | None:
    """A day of the form, as the first (or last) instant of that day in UTC."""
    if not value.strip():
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(f"'{value}' is not a date (YYYY-MM-DD).") from None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


def _stated(value: str) -> datetime | None:
    """A deadline the order states: a day (read as 00:00 UTC that day, the earliest instant it
    can mean, so that the clock is never later than the order), or a day and time in UTC."""
    text = value.strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise InvalidInput(f"'{value}' is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM, UTC).")


def _uploads(form: FormData) -> list[Upload]:
    uploads = []
    for item in form.getlist("attachments"):
        if isinstance(item, UploadFile) and item.filename:
            uploads.append(Upload(item.filename, item.file.read(MAX_BYTES + 1)))  # a spooled file: sync read
    return uploads


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def submission_from_form(form: FormData) -> Submission:
    targets: list[TargetItem] = [(None, line.strip()) for line in _text(form, "targets").splitlines() if line.strip()]
    return Submission(
        instrument=_text(form, "instrument"),
        categories=[v for v in form.getlist("categories") if isinstance(v, str)],
        elements={
            k.removeprefix(ELEMENT_PREFIX): v for k, v in form.items() if k.startswith(ELEMENT_PREFIX) and isinstance(v, str)
        },
        targets=targets,
        emergency=_text(form, "emergency") == "on",
        period_start=_date(_text(form, "period_start"), end=False),
        period_end=_date(_text(form, "period_end"), end=True),
        enforcing_state_notified=_text(form, "enforcing_state_notified") == "on",
        stated_due_at=_stated(_text(form, "stated_due_at")),
        language=_text(form, "language") or "en",
        sender_email=_text(form, "sender_email").strip() or None,
        contact_phone=_text(form, "contact_phone").strip() or None,
        attachments=_uploads(form),
        person_country=_text(form, "person_country").strip() or None,
        offence_country=_text(form, "offence_country").strip() or None,
    )


def form_values(form: FormData) -> dict[str, object]:
    """What the person typed, to put back in the form after an error (never the files)."""
    return {k: (form.getlist(k) if k == "categories" else v) for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
