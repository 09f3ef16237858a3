"""The demo's people, chats and scripted conversations, as data: who they are is a fact a
reviewer should be able to read in one place, not reconstruct from code.

Everything is fictional. Phone numbers are in ranges no real subscriber holds where the
country has one (e.g. US 555-01xx); addresses are documentation ranges (RFC 5737, RFC 3849).
The bad actors' texts are mild and invented; 'Iron Dawn Front' is no real movement."""

from __future__ import annotations

from typing import NamedTuple

from trustdesk.platform.port import ChatKind


class Person(NamedTuple):
    key: str
    username: str
    display_name: str
    phone: str
    email: str | None
    country: str | None
    registered_days_ago: int


class ChatPlan(NamedTuple):
    key: str
    kind: ChatKind
    title: str
    members: tuple[str, ...]  # person keys, owner first


class Line(NamedTuple):
    """One scripted message. `key` names the notable ones so that tests and demos can find
    them; `media` names images of `imagery.IMAGES`."""

    chat: str
    sender: str
    days_ago: float
    text: str | None
    media: tuple[str, ...] = ()
    key: str | None = None


PEOPLE = (
    Person("lena", "lena_berlin", "Lena Hoffmann", "+49 151 2345 6701", "lena.hoffmann@example.de", "DE", 900),
    Person("marc", "marc_dupont", "Marc Dupont", "+33 6 12 34 56 02", "marc.dupont@example.fr", "FR", 700),
    Person("jess", "jess_tx", "Jessica Moore", "+1 512-555-0103", "jess.moore@example.com", "US", 1200),
    Person("ana", "ana_rio", "Ana Souza", "+55 21 98765-0104", "ana.souza@example.com.br", "BR", 400),
    Person("priya", "priya_k", "Priya Kumar", "+91 98765 00105", "priya.kumar@example.in", "IN", 650),
    Person("emre", "emre_ist", "Emre Yilmaz", "+90 532 123 0106", None, "TR", 300),
    Person("dealer", "greenleaf_delivery", "GreenLeaf Express", "+49 160 9876 0107", None, "DE", 45),
    Person("extortionist", "private_collector", "Mr. Private", "+1 302-555-0108", "collector@example.net", "US", 20),
    Person("tom", "tom_meier", "Tom Meier", "+49 170 5550 0109", "tom.meier@example.de", "DE", 500),
    Person("herald", "dawn_herald", "Iron Dawn Herald", "+44 7700 900110", None, None, 60),
    Person("sofia", "sofia_madrid", "Sofía García", "+34 612 345 011", "sofia.garcia@example.es", "ES", 800),
    Person("reposter", "truth_seeker_77", "Truth Seeker", "+44 7700 900112", None, "GB", 90),
    Person("kenji", "kenji_t", "Kenji Tanaka", "+81 90 1234 0113", "kenji@example.jp", "JP", 1000),
)

CHATS = (
    ChatPlan("neighbours", ChatKind.GROUP, "Berlin Neighbours", ("lena", "tom", "marc", "dealer", "emre")),
    ChatPlan("travel", ChatKind.GROUP, "Travel Buddies", ("marc", "jess", "ana", "priya", "sofia", "kenji")),
    ChatPlan("debate", ChatKind.GROUP, "Open Debate Club", ("jess", "reposter", "emre", "priya")),
    ChatPlan("bulletin", ChatKind.CHANNEL, "Iron Dawn Bulletin", ("herald", "reposter", "emre")),
    ChatPlan("cats", ChatKind.CHANNEL, "Daily Cat Pictures", ("sofia", "ana", "kenji", "lena", "jess")),
    ChatPlan("lena_marc", ChatKind.DIRECT, "", ("lena", "marc")),
    ChatPlan("extortion", ChatKind.DIRECT, "", ("extortionist", "tom")),
    ChatPlan("ana_priya", ChatKind.DIRECT, "", ("ana", "priya")),
    ChatPlan("lena_tom_secret", ChatKind.SECRET, "", ("lena", "tom")),
    ChatPlan("dealer_secret", ChatKind.SECRET, "", ("dealer", "emre")),
)

SCRIPT = (
    # A drug seller advertising in a neighbourhood group.
    Line(
        "neighbours",
        "dealer",
        21.3,
        "Hi neighbours! Fresh stock just arrived: weed, pills and 'party powder'. "
        "Same-day delivery in Berlin, discreet packaging. DM me, crypto only.",
        key="drug_ad",
    ),
    Line("neighbours", "lena", 21.2, "Is this a joke? This group is for lost cats and parcel pickups."),
    Line(
        "neighbours",
        "dealer",
        14.6,
        "Updated price list, bulk discounts for resellers. Ask for the weekend special.",
        ("price_list",),
        key="drug_price_list",
    ),
    Line("neighbours", "tom", 14.5, "Can an admin remove this please?"),
    Line(
        "neighbours", "dealer", 6.2, "Last call before the weekend, stock is running low. Message me privately.", key="drug_ad_2"
    ),
    Line("dealer_secret", "emre", 13.0, "how much for the weekend special"),
    Line("dealer_secret", "dealer", 12.9, "80 for the usual, meet at the station at 9"),
    # Sextortion-style threats in a direct chat.
    Line(
        "extortion",
        "extortionist",
        9.4,
        "I recorded our video call. Pay 500 EUR in bitcoin within 48 hours or I send "
        "the recording to all your contacts and your university.",
        key="extortion_threat",
    ),
    Line("extortion", "tom", 9.3, "Please leave me alone. I will report you."),
    Line(
        "extortion",
        "extortionist",
        8.1,
        "Clock is ticking. Wallet: bc1q-demo-not-a-real-wallet. Nobody needs to know.",
        key="extortion_wallet",
    ),
    Line("extortion", "extortionist", 7.2, "Last warning. 24 hours, then everyone sees it.", key="extortion_last_warning"),
    Line("lena_tom_secret", "tom", 7.0, "Someone is blackmailing me, can we talk?"),
    Line("lena_tom_secret", "lena", 6.9, "Of course. Don't pay. Screenshot everything and report the account."),
    # A channel posting propaganda for a fictional violent movement, re-shared with edits.
    Line(
        "bulletin",
        "herald",
        25.0,
        "The Iron Dawn Front calls on every loyal follower: the corrupt order will fall. "
        "Train, prepare, and be ready when the signal comes.",
        ("poster",),
        key="propaganda_poster",
    ),
    Line(
        "bulletin",
        "herald",
        18.5,
        "Our fighters struck the enemy's outpost last night. Glory to those who act. "
        "Share this message everywhere before they silence us.",
        key="propaganda_attack",
    ),
    Line(
        "bulletin",
        "herald",
        4.0,
        "Recruits wanted. Those ready to act for the Front, write to the herald.",
        key="propaganda_recruit",
    ),
    Line(
        "debate",
        "reposter",
        17.9,
        "Look what the Iron Dawn people posted, they are everywhere now",
        ("poster_resized",),
        key="poster_repost_resized",
    ),
    Line("debate", "jess", 17.8, "Please don't spread that stuff, even ironically."),
    Line("debate", "reposter", 3.5, "Another one going round", ("poster_cropped",), key="poster_repost_cropped"),
    # Ordinary life, with a few pictures.
    Line("travel", "marc", 28.0, "Who is up for the Alps in August?", ("mountains",)),
    Line("travel", "kenji", 27.8, "Count me in, I can bring the big tent."),
    Line("travel", "ana", 16.0, "Sunset from Copacabana yesterday", ("sunset",)),
    Line("cats", "sofia", 29.0, "Good morning from Mishi", ("cat",)),
    Line("cats", "sofia", 11.0, "Cat of the week: the abstract edition", ("cat",)),
    Line("ana_priya", "priya", 10.0, "Our survey results are in", ("bar_chart",)),
    Line("ana_priya", "ana", 9.9, "That second bar is wild. Let's discuss on Monday."),
    Line("lena_marc", "lena", 2.0, "Are we still on for dinner on Friday?"),
    Line("lena_marc", "marc", 1.9, "Yes! 8 pm at the usual place."),
)

# Filler chatter for the ordinary chats, drawn by the seeded random generator.
SMALL_TALK = (
    "Good morning everyone!",
    "Has anyone seen my parcel? The tracking says delivered.",
    "Thanks for the tip, that worked.",
    "Running late, sorry.",
    "What time is the meeting tomorrow?",
    "Happy birthday!",
    "The weather is great today.",
    "Does anyone have a ladder I could borrow?",
    "See you there.",
    "Ha, that's brilliant.",
    "I'll bring snacks.",
    "Can someone share the photos from Saturday?",
    "Trains are delayed again.",
    "Recommend a good book?",
    "Sounds good to me.",
)
FILLER_CHATS = ("neighbours", "travel", "debate", "lena_marc", "ana_priya", "lena_tom_secret")
FILLER_COUNT = 52

USER_AGENTS = (
    "DemoMessenger/5.2 (Android 14; Pixel 8)",
    "DemoMessenger/5.2 (iOS 17.5; iPhone15,2)",
    "DemoMessenger Desktop/4.9 (Windows 11)",
    "DemoMessenger Web/2.1 (Firefox 128; Linux)",
)
