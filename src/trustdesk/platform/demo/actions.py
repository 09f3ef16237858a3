"""What the platform does when Trustdesk acts: state changes on its own rows, each logged as
a `DemoAction` whose ref goes back to Trustdesk as `ActionResult.platform_ref`.

Repeating an action whose end state already holds answers ok with the earlier action's ref,
so that a retried job does not act twice. An action that makes no sense in the current state
(restoring a message never removed) is refused with ok=False and changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.platform.demo.models import DemoAccount, DemoAction, DemoChat, DemoMessage
from trustdesk.platform.port import AccountState, ActionResult, MessageState


def remove_message(*, session: Session, message: DemoMessage, reason: str, now: datetime) -> ActionResult:
    require_reason(reason)
    if message.state == MessageState.REMOVED:
        earlier = session.get(DemoAction, message.removal_action_id)
        detail = f"message {message.id} was already removed at {message.removed_at:%Y-%m-%d %H:%M} UTC"
        return ActionResult(ok=True, detail=detail, platform_ref=earlier.ref if earlier else None)
    action = record_action(session=session, kind="message", target_id=message.id, action="remove", reason=reason, now=now)
    message.state = MessageState.REMOVED.value
    message.removed_at, message.removed_reason, message.removal_action_id = now, reason, action.id
    return ActionResult(ok=True, detail=f"message {message.id} removed", platform_ref=action.ref)


def restore_message(*, session: Session, message: DemoMessage, reason: str, now: datetime) -> ActionResult:
    """Visible again, with its text intact: removal never deleted it."""
    require_reason(reason)
    if message.state == MessageState.VISIBLE:
        earlier = _last_action(session=session, kind="message", target_id=message.id, action="restore")
        if earlier is None:
            return ActionResult(ok=False, detail=f"message {message.id} was never removed; nothing to restore")
        return ActionResult(ok=True, detail=f"message {message.id} was already restored", platform_ref=earlier.ref)
    action = record_action(session=session, kind="message", target_id=message.id, action="restore", reason=reason, now=now)
    message.state = MessageState.VISIBLE.value
    return ActionResult(ok=True, detail=f"message {message.id} restored", platform_ref=action.ref)


def restrict_account(
    *, session: Session, account: DemoAccount, reason: str, until: datetime | None, now: datetime
) -> ActionResult:
    """A restricted account may read and talk in direct chats but not post in groups or
    channels. A suspended account is not quietly downgraded: reinstate it first."""
    require_reason(reason)
    require_future(until, now=now)
    state = account.effective_state(now=now)
    if state in (AccountState.SUSPENDED, AccountState.DEACTIVATED):
        return ActionResult(ok=False, detail=f"account {account.id} is {state}; it cannot be restricted")
    return _set_state(session=session, account=account, to=AccountState.RESTRICTED, reason=reason, until=until, now=now)


def suspend_account(
    *, session: Session, account: DemoAccount, reason: str, until: datetime | None, now: datetime
) -> ActionResult:
    require_reason(reason)
    require_future(until, now=now)
    if account.effective_state(now=now) is AccountState.DEACTIVATED:
        return ActionResult(ok=False, detail=f"account {account.id} is deactivated; it cannot be suspended")
    return _set_state(session=session, account=account, to=AccountState.SUSPENDED, reason=reason, until=until, now=now)


def reinstate_account(*, session: Session, account: DemoAccount, reason: str, now: datetime) -> ActionResult:
    require_reason(reason)
    state = account.effective_state(now=now)
    if state not in (AccountState.RESTRICTED, AccountState.SUSPENDED):
        return ActionResult(ok=False, detail=f"account {account.id} is {state}; there is nothing to reinstate")
    action = record_action(session=session, kind="account", target_id=account.id, action="reinstate", reason=reason, now=now)
    account.state, account.state_until = AccountState.ACTIVE.value, None
    return ActionResult(ok=True, detail=f"account {account.id} reinstated", platform_ref=action.ref)


def close_chat(*, session: Session, chat: DemoChat, reason: str, now: datetime) -> ActionResult:
    """Nobody can post any more; the history stays, for appeals and for disclosure."""
    require_reason(reason)
    if chat.closed:
        earlier = _last_action(session=session, kind="chat", target_id=chat.id, action="close")
        return ActionResult(ok=True, detail=f"chat {chat.id} was already closed", platform_ref=earlier.ref if earlier else None)
    action = record_action(session=session, kind="chat", target_id=chat.id, action="close", reason=reason, now=now)
    chat.closed, chat.closed_at = True, now
    return ActionResult(ok=True, detail=f"chat {chat.id} closed", platform_ref=action.ref)


def reopen_chat(*, session: Session, chat: DemoChat, reason: str, now: datetime) -> ActionResult:
    """Members may post again; the history was never touched. Reopening twice answers with
    the first reopening; a chat never closed is refused."""
    require_reason(reason)
    if not chat.closed:
        earlier = _last_action(session=session, kind="chat", target_id=chat.id, action="reopen")
        if earlier is None:
            return ActionResult(ok=False, detail=f"chat {chat.id} is not closed; nothing to reopen")
        return ActionResult(ok=True, detail=f"chat {chat.id} was already reopened", platform_ref=earlier.ref)
    action = record_action(session=session, kind="chat", target_id=chat.id, action="reopen", reason=reason, now=now)
    chat.closed, chat.closed_at = False, None
    return ActionResult(ok=True, detail=f"chat {chat.id} reopened", platform_ref=action.ref)


def _set_state(
    *, session: Session, account: DemoAccount, to: AccountState, reason: str, until: datetime | None, now: datetime
) -> ActionResult:
    """Move the account to `to`, or answer with the earlier action when it is already there
    on the same terms. A new `until` on the same state is a new action: the term changed."""
    verb = "restrict" if to is AccountState.RESTRICTED else "suspend"
    term = "until reinstated" if until is None else f"until {until:%Y-%m-%d %H:%M} UTC"
    if account.effective_state(now=now) is to and account.state_until == until:
        earlier = _last_action(session=session, kind="account", target_id=account.id, action=verb)
        detail = f"account {account.id} was already {to} {term}"
        return ActionResult(ok=True, detail=detail, platform_ref=earlier.ref if earlier else None)
    action = record_action(
        session=session, kind="account", target_id=account.id, action=verb, reason=reason, now=now, until=until
    )
    account.state, account.state_until = to.value, until
    return ActionResult(ok=True, detail=f"account {account.id} {to} {term}", platform_ref=action.ref)


def record_action(
    *, session: Session, kind: str, target_id: str, action: str, reason: str, now: datetime, until: datetime | None = None
) -> DemoAction:
    row = DemoAction(target_kind=kind, target_id=target_id, action=action, reason=reason, at=now, until=until)
    session.add(row)
    session.flush()  # the id is the ref handed back
    return row


def _last_action(*, session: Session, kind: str, target_id: str, action: str) -> DemoAction | None:
    query = select(DemoAction).where(
        DemoAction.target_kind == kind, DemoAction.target_id == target_id, DemoAction.action == action
    )
    return session.scalars(query.order_by(DemoAction.id.desc()).limit(1)).first()


def require_reason(reason: str) -> None:
    """Every state change is explained to the user and the auditor; a blank reason is a bug
    in the caller, not something the platform should record."""
    if not reason.strip():
        raise ValueError("an action on the platform needs a reason")


def require_future(until: datetime | None, *, now: datetime) -> None:
    if until is None:
        return
    if until.tzinfo is None:
        raise ValueError("until must be an aware datetime (UTC)")
    if until <= now:
        raise ValueError(f"until ({until.isoformat()}) is not in the future")
