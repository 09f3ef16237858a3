"""Automated decisions that say who decided: a new rule or model version runs in shadow (its
verdicts recorded, no effects) until it is promoted, on its measured precision, by an audited
decision; every automated action records its rule, model or bank versions and policy version."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.safety.pipeline.conftest import RULES, TEST_ACTOR, DemoWorld, as_bytes, message_event
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.errors import Forbidden, InvalidInput
from trustdesk.core.identity.permissions import Principal, PrincipalKind, Role, permissions_for
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.safety.automation import service as automation
from trustdesk.safety.automation.models import AutomatedDecision, AutomationVersion, ShadowVerdict
from trustdesk.safety.classifiers import ClassifierRegistry, HttpClassifier
from trustdesk.safety.classifiers.memory import InMemoryModelServer, keyword_scorer
from trustdesk.safety.classifiers.naive_bayes import train_shipped_spam
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.pipeline.events import parse_event
from trustdesk.safety.pipeline.handling import Handler, Received
from trustdesk.safety.pipeline.hashes import InMemoryHashMatcher
from trustdesk.safety.pipeline.models import RuleHit
from trustdesk.safety.review.models import Case, CaseOutcome, CaseState
from trustdesk.safety.review.service import ensure_queues
from trustdesk.safety.rules.book import RuleBook

MODEL = "roost/moderation-small"
MODEL_RULES = """ruleset "models" version 1

rule hateful {
  version 2
  description "Hate speech to review"
  when event.kind == "message" and classify("moderation", event.text, label="hate") > 0.9
  then open_case(queue="abuse", priority=20), verdict("hate")
}
"""


def staff(*roles: Role) -> Principal:
    granted = frozenset(roles)
    return Principal(kind=PrincipalKind.STAFF, id=1, name="lena", permissions=permissions_for(granted), roles=granted)


@pytest.fixture
def twin() -> InMemoryModelServer:
    return InMemoryModelServer(model=MODEL, version="2026.03.1", scorer=keyword_scorer({"hate": ("vermin",)}))


@pytest.fixture
def gated(db: Database, clock: FrozenClock, platform: DemoPlatform, tmp_path: Path, twin: InMemoryModelServer) -> Handler:
    directory = tmp_path / "model-rules"
    directory.mkdir()
    (directory / "models.rules").write_text(MODEL_RULES, encoding="utf-8")
    with db.transaction() as session:
        ensure_queues(session, actor=TEST_ACTOR, clock=clock)
    moderation = HttpClassifier(
        name="moderation", base_url="http://models.invalid", model=MODEL, positive_label="hate", transport=twin.transport()
    )
    registry = ClassifierRegistry([train_shipped_spam(), moderation])
    book = RuleBook(directory, check_every=0, classifiers=frozenset(registry.names()))
    return Handler(db=db, clock=clock, book=book, platform=platform, classifiers=registry, gate=automation.PromotionGate())


def _send(handler: Handler, world: DemoWorld, clock: FrozenClock, texts: list[str]) -> list[str]:
    messages = [world.post(t) for t in texts]
    events = [message_event(m, at=clock.now()) for m in messages]
    handler.handle([Received(parse_event(as_bytes(e)), as_bytes(e).decode()) for e in events])
    clock.advance(seconds=1)
    return [m.id for m in messages]


def _decided(session: Session, clock: FrozenClock, message_id: str, acted: bool) -> None:
    """A reviewer's decision on the same message (the label source until the quality labels)."""
    session.add(
        Case(
            subject_kind="message",
            subject_id=message_id,
            queue="illegal_goods",  # apart from the cases the rule opens (queue abuse)
            priority=10,
            state=CaseState.DECIDED.value,
            source="notice",
            sources=["notice"],
            reason="reported",
            signals={},
            opened_at=clock.now(),
            due_at=clock.now(),
            decided_at=clock.now(),
            outcome=(CaseOutcome.ACTION if acted else CaseOutcome.NO_ACTION).value,
        )
    )


def _label(db: Database, clock: FrozenClock, message_id: str, acted: bool) -> None:
    with db.transaction() as session:
        _decided(session, clock, message_id, acted)


def test_a_new_rule_and_model_version_run_in_shadow_then_act_once_promoted(
    db: Database, clock: FrozenClock, world: DemoWorld, gated: Handler, twin: InMemoryModelServer
) -> None:
    hateful = _send(gated, world, clock, ["they are vermin", "vermin, all of them", "such vermin", "nice weather"])
    with db.transaction() as session:
        assert session.scalars(select(Case).where(Case.queue == "abuse")).all() == []  # no effects in shadow
        hits = session.scalars(select(RuleHit).order_by(RuleHit.id)).all()
        assert len(hits) == 3 and all(h.shadow for h in hits)
        assert hits[0].effects[0]["awaiting_promotion"] == ["rule:models/hateful@2", "model:moderation@2026.03.1"]
        versions = {(v.kind, v.name, v.version): v for v in automation.versions(session)}
        assert set(versions) == {("rule", "models/hateful", "2"), ("model", "moderation", "2026.03.1")}
        assert (
            all(v.state == "shadow" for v in versions.values()) and versions[("model", "moderation", "2026.03.1")].model == MODEL
        )
        rule_id, model_id = versions[("rule", "models/hateful", "2")].id, versions[("model", "moderation", "2026.03.1")].id
        assert len(session.scalars(select(ShadowVerdict).where(ShadowVerdict.version_id == model_id)).all()) == 3
    _label(db, clock, hateful[0], True)
    _label(db, clock, hateful[1], True)
    _label(db, clock, hateful[2], False)  # the reviewer found no hate: a false positive of the shadow run
    admin = staff(Role.ADMIN)
    with db.transaction() as session:
        with pytest.raises(Forbidden):
            automation.promote(session, actor=TEST_ACTOR, clock=clock, principal=staff(Role.REVIEWER), version_id=rule_id)
        with pytest.raises(InvalidInput, match="3 labelled shadow verdicts of the 20"):
            automation.promote(session, actor=TEST_ACTOR, clock=clock, principal=admin, version_id=rule_id)
        with pytest.raises(InvalidInput, match="precision of 0.667"):
            automation.promote(
                session, actor=TEST_ACTOR, clock=clock, principal=admin, version_id=rule_id, min_labelled=3, min_precision=0.9
            )
        assert session.get(AutomationVersion, rule_id).state == "shadow"  # refused: nothing changed
        row, measured = automation.promote(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=admin,
            version_id=rule_id,
            min_labelled=3,
            note="checked by T&S lead",
        )
        assert (row.state, row.labelled, row.true_positives, row.label_source) == ("active", 3, 2, "reviewer_decisions")
        assert abs((row.precision or 0) - 2 / 3) < 1e-9
        low, high = measured.interval or (0, 0)
        assert 0.2 < low < 2 / 3 < high < 1.0
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "automation.promote")).one()
        assert entry.details["measured"]["precision"] == 0.6667 and entry.details["measured"]["labelled"] == 3
        assert entry.details["name"] == "models/hateful" and entry.details["version"] == "2"
    # The rule is promoted but its model is not: still shadow.
    _send(gated, world, clock, ["vermin again"])
    with db.transaction() as session:
        assert session.scalars(select(Case).where(Case.queue == "abuse")).all() == []
        automation.promote(session, actor=TEST_ACTOR, clock=clock, principal=admin, version_id=model_id, min_labelled=3)
    acted = _send(gated, world, clock, ["you vermin"])
    with db.transaction() as session:
        cases = session.scalars(select(Case).where(Case.queue == "abuse")).all()
        assert [c.subject_id for c in cases] == acted
        assert not session.scalars(select(RuleHit).order_by(RuleHit.id.desc())).first().shadow
    # A new model version on the server goes back to shadow; promoting it retires the old one.
    twin.version = "2026.04.0"
    _send(gated, world, clock, ["vermin once more"])
    with db.transaction() as session:
        assert len(session.scalars(select(Case).where(Case.queue == "abuse")).all()) == 1
        new = automation.find(session, automation.Decider("model", "moderation", "2026.04.0"))
        assert new is not None and new.state == "shadow"
        for verdict in session.scalars(select(ShadowVerdict).where(ShadowVerdict.version_id == new.id)).all():
            _decided(session, clock, verdict.subject_id, True)
        automation.promote(session, actor=TEST_ACTOR, clock=clock, principal=admin, version_id=new.id, min_labelled=1)
        old = session.get(AutomationVersion, model_id)
        assert old.state == "retired" and old.retired_at == clock.now()


def test_every_automated_action_records_its_rule_version_and_policy_version(
    db: Database, clock: FrozenClock, world: DemoWorld, handler: Handler, matcher: InMemoryHashMatcher
) -> None:
    message = world.post("look", media=True)
    event = message_event(message, at=clock.now(), pdq=world.poster_pdq)
    handler.handle([Received(parse_event(as_bytes(event)), as_bytes(event).decode())])
    with db.transaction() as session:
        decisions = session.scalars(select(AutomatedDecision).order_by(AutomatedDecision.id)).all()
        assert [d.deciders for d in decisions] == [
            [{"kind": "rule", "name": "test/known_csam", "version": "3"}],
            [{"kind": "rule", "name": "strike-threshold:10", "version": load_policies().version}],
        ]  # the removal, and the account suspension its strike triggered
        decision = decisions[0]
        assert decision.policy == "child_sexual_exploitation" and decision.policy_version == load_policies().version
        assert decision.ruleset_version == "test@7"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "enforcement.act").order_by(AuditEntry.seq)).first()
        assert entry is not None and entry.details["deciders"] == decision.deciders
    assert "known_csam" in RULES


def test_deciders_are_inferred_from_what_an_action_records() -> None:
    assert automation.inferred("test/known_csam@v3", "rule", "p1") == [automation.Decider("rule", "test/known_csam", "3")]
    assert automation.inferred("bank:4/entry:9", "hash_match", "p1") == [automation.Decider("bank", "bank:4", "entry:9")]
    assert automation.inferred("strike-threshold:3", "own_initiative", "p1") == [
        automation.Decider("rule", "strike-threshold:3", "p1")
    ]


def test_the_wilson_interval_of_a_measurement() -> None:
    assert automation.Measurement(10, 0, 0, "x").precision is None and automation.Measurement(10, 0, 0, "x").interval is None
    low, high = automation.Measurement(100, 100, 90, "x").interval or (0, 0)
    assert round(low, 3) == 0.826 and round(high, 3) == 0.945


def test_the_gate_is_on_unless_a_deployment_turns_it_off() -> None:
    from trustdesk.core.settings import Settings

    assert Settings.model_fields["automation_requires_promotion"].default is True
