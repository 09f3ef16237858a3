"""No secret and no personal data in a log line.

Some links carry their secret in the path because they go out by e-mail or on paper and must
open with one click: a notice's receipt (`/report/{token}`), a statement of reasons and its
appeal form (`/statement/{token}`, `/appeal/{token}`), a disclosure package
(`/portal/disclosures/{secret}`). Others name a person (`/accounts/{account_id}`, the audit
filter `?actor=`). The access log (uvicorn's, or any server's) and the app's own error lines
would write them down, where anyone with the logs could open the package or read the
statement.

So every log record is redacted when it is made, before any handler or formatter sees it:
`install(app)` wraps the logging module's record factory, once per process, with patterns
built from the app's own routes. The CLI does the same before any command runs, workers
included (`install_templates` with the same routes, `web.app.route_templates`): a pipeline
worker, the emergency lane or the Matrix report import writes the same URLs in its lines.

A path parameter is redacted when its name is in `SECRET_PARAMETERS` or
`PERSONAL_PARAMETERS`, so a new route that names its secret `token` or `secret` is covered
without a change here (and `tests/web/test_log_redaction.py` fails when a route takes a
parameter that is in neither these sets nor `PLAIN_PARAMETERS`)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

REDACTED = "[redacted]"
# Path parameters whose value is a bearer secret: whoever has it may open the page.
SECRET_PARAMETERS = frozenset({"token", "secret"})
# Path parameters whose value names a person on the platform.
PERSONAL_PARAMETERS = frozenset({"account_id"})
# Path parameters that are neither: ids of our own records, codes, names of queues and files.
PLAIN_PARAMETERS = frozenset(
    {
        "action",
        "alert_id",
        "appeal_id",
        "attachment_id",
        "bank_id",
        "call",  # the WISP call of an outbound e-Evidence message (legal/eevidence)
        "case_id",
        "code",
        "dead_letter_id",
        "decision_id",
        "disclosure_id",
        "endpoint",  # the WISP endpoint of an inbound e-Evidence message: one of ten fixed names
        "entry_id",
        "event_id",
        "hold_id",
        "key",
        "media_id",
        "name",
        "notice_id",
        "officer_id",
        "page_id",
        "queue",
        "removal_id",
        "report_id",
        "rule_id",
        "sample_id",
        "request_id",
        "slug",
        "statement_id",
        "token_id",
        "username",
        "version",
    }
)
# Query parameters redacted wherever they appear in a logged URL.
SECRET_QUERY = frozenset(
    {"token", "secret", "password", "totp", "access_token", "api_key", "actor", "account", "account_id", "email"}
)

_TRACEBACKS = logging.Formatter()
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z_]+)?\}")
_SEGMENT = r"[^/?#\s\"'<>]+"
# Where a path may begin in a line: at its start, after a space, quote or bracket, or after a
# URL's host (`https://host:8000/statement/...`); never inside a longer path. Group 1.
_START = r"(^|[\s\"'=(<\[,]|//[^/?#\s\"'<>]+)"


def route_paths(app: FastAPI) -> Iterator[str]:
    """Every route's full path template, through the routers the app includes."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)  # FastAPI >= 0.16x: included routers stay lazy
        if contexts is not None:
            yield from (context.path for context in contexts())
        elif isinstance(path := getattr(route, "path", None), str):
            yield path


def _template_pattern(template: str) -> re.Pattern[str] | None:
    """A pattern for one path template whose groups after the first are its redacted segments,
    or None when it has none. It matches the path anywhere in a line or in a full URL, but
    not inside a longer path."""
    parts, redacted, at = [], False, 0
    for match in _PARAMETER.finditer(template):
        parts.append(re.escape(template[at : match.start()]))
        name = match.group(1)
        if name in SECRET_PARAMETERS or name in PERSONAL_PARAMETERS:
            parts.append(f"({_SEGMENT})")
            redacted = True
        else:
            parts.append(f"(?:{_SEGMENT})")
        at = match.end()
    parts.append(re.escape(template[at:]))
    return re.compile(_START + "".join(parts) + r"(?=$|[?#\s\"'<>])") if redacted else None


class Redactor:
    """Rewrites text so that no secret segment or query value of a known route survives."""

    def __init__(self, templates: Iterable[str]) -> None:
        self.templates: frozenset[str] = frozenset()
        self.paths: list[re.Pattern[str]] = []
        self.before: Callable[[], None] | None = None  # install_lazily: computes the templates on first use
        self.query = re.compile(r"([?&](?:" + "|".join(sorted(map(re.escape, SECRET_QUERY))) + r")=)[^&#\s\"'<>]*")
        self.widen(templates)

    def widen(self, templates: Iterable[str]) -> None:
        added = frozenset(templates) - self.templates
        if not added:
            return
        self.templates |= added
        self.paths = [p for p in map(_template_pattern, sorted(self.templates)) if p is not None]

    def __call__(self, text: str) -> str:
        for pattern in self.paths:
            text = pattern.sub(_blank_groups, text)
        return self.query.sub(lambda m: m.group(1) + REDACTED, text)

    def record(self, record: logging.LogRecord) -> None:
        """Redact a record in place: its message and each of its arguments (a formatter such as
        uvicorn's access formatter reads the arguments one by one, so they keep their places)."""
        if isinstance(record.msg, str):
            record.msg = self(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: self._argument(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(self._argument(a) for a in record.args)
        if record.exc_info and not record.exc_text:  # formatters reuse exc_text: the traceback is written redacted
            record.exc_text = self(_TRACEBACKS.formatException(record.exc_info))

    def _argument(self, value: Any) -> Any:
        if value is None or isinstance(value, (int, float, bool)):
            return value
        text = str(value)
        clean = self(text)
        return value if clean == text else clean


def _blank_groups(match: re.Match[str]) -> str:
    text, start = match.group(0), match.start()
    for index in range(len(match.groups()), 1, -1):  # group 1 is where the path starts: kept
        begin, end = match.span(index)
        text = text[: begin - start] + REDACTED + text[end - start :]
    return text


_installed: Redactor | None = None


def install(app: FastAPI) -> Redactor:
    """Redact every log record of this process with the app's routes (`install_templates`)."""
    return install_templates(route_paths(app))


def install_lazily(templates: Callable[[], Iterable[str]]) -> Redactor:
    """`install_templates` whose templates are computed when the first log record is made,
    not before: the CLI's come from every router (`web.app.route_templates`, about as costly
    as importing the whole server), which a command that logs nothing, `--help` first of all,
    never pays for. A record made while they are being computed (an import that logs) is
    redacted with what is known so far (the secret query values)."""
    redactor = install_templates(())
    pending: list[Callable[[], Iterable[str]]] = [templates]
    lock = threading.RLock()
    resolving = threading.local()

    def resolve() -> None:
        if not pending or getattr(resolving, "on", False):
            return
        with lock:
            if not pending:
                return
            resolving.on = True
            try:
                redactor.widen(pending[0]())
                pending.clear()
            finally:
                resolving.on = False

    redactor.before = resolve
    return redactor


def install_templates(templates: Iterable[str]) -> Redactor:
    """Redact every log record of this process with these path templates: the server's
    (`install`), or the CLI's for its commands and workers, which have no app. Idempotent: a
    second call in the same process (tests, `trustdesk serve`) widens the patterns instead of
    wrapping twice."""
    global _installed
    if _installed is not None:
        _installed.widen(templates)
        return _installed
    redactor = Redactor(templates)
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            if redactor.before is not None:
                redactor.before()
            redactor.record(record)
        except Exception:  # a line that cannot be redacted must not break its caller, nor be written as it was
            record.msg, record.args = "[log line withheld: redaction failed]", None
        return record

    logging.setLogRecordFactory(factory)
    _installed = redactor
    return redactor
