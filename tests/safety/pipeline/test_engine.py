"""The engine's planning (kind, list, pattern, label, value and media guards) is only a
shortcut: an event meets exactly the rules, in file order, that every rule's whole
condition would give it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from trustdesk.safety.classifiers import default_registry
from trustdesk.safety.pipeline import ingest
from trustdesk.safety.pipeline.context import EventContext, Signals
from trustdesk.safety.pipeline.engine import evaluate
from trustdesk.safety.pipeline.handling import bump_counters
from trustdesk.safety.pipeline.hashes import InMemoryHashMatcher
from trustdesk.safety.pipeline.state import Counters, Labels
from trustdesk.safety.rules.language import parse_rules
from trustdesk.safety.rules.ruleset import build_ruleset

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BANKED = "f" * 64
RULES = """ruleset "plan" version 1
list drugs = ["mdma", "pills for sale"]
list scam = ["wire", "gift card"]

rule kw { version 1 when event.kind == "message" and contains_any(event.text, drugs) then verdict("kw") }
rule kw_channel { version 1 when contains_any(event.text, scam) and event.chat_kind == "channel" then verdict("kw_channel") }
rule pay { version 1 when event.kind == "message" and matches(event.text, '(?:pay|send)\\s+\\d+') then verdict("pay") }
rule labelled { version 1 when event.kind == "message" and has_label(event.actor, "suspect") and length(event.text) > 3 then verdict("labelled") }
rule labelled_or { version 1 when has_label(event.actor, "suspect") or event.chat_kind == "direct" then verdict("labelled_or") }
rule not_labelled { version 1 when event.kind == "message" and not has_label(event.actor, "suspect") and length(event.text) > 30 then verdict("long") }
rule channel { version 1 when event.kind == "message" and event.chat_kind == "channel" and length(event.text) > 10 then verdict("channel") }
rule not_group { version 1 when event.kind == "message" and event.chat_kind != "group" then verdict("not_group") }
rule flood { version 1 when event.kind == "message" and count("message", event.actor, 1m) > 2 then verdict("flood") }
rule flood_long { version 1 when count("message", event.actor, 2m) >= 25 and length(event.text) > 5 then verdict("flood_long") }
rule busy_chat { version 1 when event.kind == "message" and count("message", event.chat, 10m) > 60 then verdict("busy_chat") }
rule quiet_chat { version 1 when event.kind == "message" and count("message", event.chat, 10m) > 500 then verdict("quiet_chat") }
rule banked { version 1 when event.kind in ["message", "media"] and hash_match("bank", max_distance=8) then verdict("banked") }
rule media_many { version 1 when event.kind == "media" and event.media_count > 1 then verdict("media_many") }
rule anything { version 1 when length(event.text) > 0 or event.media_count > 0 then verdict("anything") }
"""
WORDS = ["hello", "mdma", "pills", "for", "sale", "wire", "gift", "card", "pay", "send", "12", "M.D.M.A", "caffè"]


def _events(rng: random.Random, n: int) -> list[dict]:
    out = []
    for i in range(n):
        actor, at = f"u{rng.randrange(4)}", (NOW + timedelta(seconds=i)).isoformat()
        media = [
            {"media_id": f"m{i}-{k}", "pdq": BANKED if rng.random() < 0.3 else f"{rng.getrandbits(256):064x}"}
            for k in range(rng.randrange(0, 3))
        ]
        if rng.random() < 0.3 and media:
            out.append({"id": f"e{i}", "kind": "media", "occurred_at": at, "actor": actor, "media": media})
            continue
        text = " ".join(rng.choices(WORDS, k=rng.randrange(0, 9))) or None
        out.append(
            {
                "id": f"e{i}",
                "kind": "message",
                "occurred_at": at,
                "actor": actor,
                "message": f"m{i}",
                "chat": "c1",
                "chat_kind": rng.choice(["group", "channel", "direct"]),
                "text": text,
                "media": media,
            }
        )
    return out


@pytest.mark.parametrize("seed", range(5))
def test_planned_rules_hit_what_every_whole_condition_hits(seed: int) -> None:
    ruleset = build_ruleset([parse_rules(RULES, path="plan.rules")])
    assert not ruleset.files[0].problems
    matcher = InMemoryHashMatcher()
    matcher.add_pdq("bank", [("b1", BANKED)])
    labels = Labels()
    labels.put("account", "u1", "suspect", None)
    labels.put(
        "account", "u2", "suspect", NOW - timedelta(hours=1)
    )  # expired: the guard lets it through, the condition refuses it
    signals = Signals(ruleset, default_registry(), matcher, Counters(), labels)
    events = ingest.validate(_events(random.Random(seed), 200))
    signals.prefetch_pdq([m.pdq for e in events for m in e.media if m.pdq])
    seen = set()
    for event in events:
        bump_counters(signals, event)
        planned = [r.name for r in evaluate(EventContext(event, signals, now=NOW)).hits]
        whole = [r.name for r in ruleset.rules if r.whole(EventContext(event, signals, now=NOW))]
        assert planned == whole, event
        seen.update(planned)
    assert seen >= {
        "kw",
        "pay",
        "labelled",
        "labelled_or",
        "channel",
        "not_group",
        "flood",
        "flood_long",
        "busy_chat",
        "banked",
        "anything",
    }
    assert "quiet_chat" not in seen


def test_value_label_and_count_guards_file_the_rules() -> None:
    ruleset = build_ruleset([parse_rules(RULES, path="plan.rules")])
    plan = ruleset.plans["message"]
    assert [r.name for r in plan.by_value[("chat_kind", "channel")]] == ["channel"]
    assert [r.name for r in plan.by_label[("actor", "suspect")]] == ["labelled"]
    assert {r.name for r in plan.plain} >= {"not_labelled", "not_group", "labelled_or"}
    by_actor, by_chat = (plan.by_count[(k, f)] for k, f in (("message", "actor"), ("message", "chat")))
    assert by_actor[0] == 120 and [(m, r.name) for m, r in by_actor[1]] == [
        (3, "flood"),
        (25, "flood_long"),
    ]  # widest window, rising minimum
    assert by_chat[0] == 600 and [(m, r.name) for m, r in by_chat[1]] == [(61, "busy_chat"), (501, "quiet_chat")]
