"""Whom a lawful request's page shows (core/access): each person it names, by the account the
target resolved to, else by the target as given (a phone number, a username). The request is
its own purpose: the caller loaded it through the scoped service."""

from __future__ import annotations

from trustdesk.core.access.service import Justification, Purpose, Subject
from trustdesk.legal.service import RequestView


def request_view(view: RequestView) -> tuple[list[Subject], Justification]:
    subjects = [Subject("account", t.account_id) if t.account_id else Subject(t.kind, t.normalised) for t in view.targets]
    return subjects, Justification(Purpose.REQUEST, str(view.request.id))
