"""Reading the statutes an order cites: "Art. 299 TCK", "§ 130 Abs. 1 StGB", "Article 280.3 of
the Criminal Code", "ст. 207.3 УК РФ", "18 U.S.C. § 2252A", "第293条", "TCK 299. madde".

`parse` finds every cited article with its paragraph, where one is given, and the words
around it in which a code may be named; `statutes.classify` then resolves the code against
the issuing country's profile. Pure and total: any text gives a (possibly empty) list,
never an error, since it reads what an authority wrote."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# An article number: 299, 280.3, 222-37, 421-2-5, 2252A, 217/A, 130a, 295-C.
NUMBER = r"\d{1,5}(?:[.\-]\d{1,4})*(?:\s?/\s?[A-Za-z](?![A-Za-z])|-?[A-Za-z](?![A-Za-z]))?"
# A paragraph after the article: (3), Abs. 1, para. 2, al. 1, ч. 1, fıkra 2, ust. 1.
PARAGRAPH = r"(?:\s?\((?P<p1>\d{1,3}|[a-z])\)|\s*(?:abs\.?|para(?:graph)?\.?|par\.|al\.|alin\.|ч\.|часть|fıkra|ust\.|odst\.|lid)\s*(?P<p2>\d{1,3}))?"
# Words that introduce an article, in the languages of the profiles; § and ст. included.
MARKERS = (
    r"art(?:icle|icles|ikel|ikla|iklan|ículo|iculo|ículos|icolo|icoli|igo|igos|ykuł|ykułu|ikkel|ykul|iklis|ikel|\.)?",
    r"§§?",
    r"sec(?:tion|tions|\.)?",
    r"s\.",
    r"ss\.",
    r"madde(?:si)?",
    r"m\.",
    r"čl(?:\.|anak|ánek|ánku|en|ena)",
    r"cl\.",
    r"ст(?:\.|атья|атьи|атьей|аття|атті|атті)",
    r"арт\.",
    r"άρθρ(?:ο|ου|α)",
    r"pykälä|pykälän",
    r"paragraf(?:ul|o)?",
    r"pasal",
    r"มาตรา",
    r"ماده|المادة|مادة|دفعہ",
    r"סעיף",
    r"điều",
    r"धारा",
)
MARKER = "|".join(MARKERS)
PARAGRAPH_ANY = PARAGRAPH.replace("?P<p1>", "").replace("?P<p2>", "")
LIST_JOIN = r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bve\b|\bи\b|\bi\b|\bor\b|\bto\b)\s*"
CITED = re.compile(
    rf"(?<![\w])(?P<marker>{MARKER})\s*(?P<list>{NUMBER}{PARAGRAPH_ANY}(?:{LIST_JOIN}(?:{MARKER})?\s*{NUMBER}{PARAGRAPH_ANY})*)",
    re.IGNORECASE,
)
# A number followed by its marker: "299. madde", "130 §", "299 uncu maddesi".
CITED_AFTER = re.compile(
    rf"(?<![\w.])(?P<number>{NUMBER})\.?\s*(?:(?:inci|ıncı|uncu|üncü|nci|ncı)\s+)?(?:madde(?:si)?|§)(?![\w])", re.IGNORECASE
)
# Chinese and Japanese 第293条, Korean 제293조.
CITED_CJK = re.compile(r"[第제]\s*(?P<number>\d{1,5}(?:之\d{1,3})?)\s*[条條조]")
# The United States Code: 18 U.S.C. § 2252A(a)(2), 18 USC 2339B, 21 U.S.C. sec. 841.
USC = re.compile(
    r"(?<!\d)(?P<title>\d{1,2})\s*U\.?\s?S\.?\s?C\.?(?:\s?A\.?)?\s*(?:§§?|sec(?:tion|\.)?|s\.)?\s*(?P<number>\d{1,5}[A-Za-z]?)(?:\s?\((?P<p>[a-z0-9]{1,3})\))?",
    re.IGNORECASE,
)
ONE = re.compile(rf"(?P<number>{NUMBER}){PARAGRAPH}", re.IGNORECASE)
BARE = "?"  # the code of a number that only an abbreviation before it makes a citation
WINDOW = 80  # characters after (and, for a code named first, before) a citation searched for a code


@dataclass(frozen=True)
class Citation:
    """One cited article. `article` is normalised (lower case, no spaces: '217/a', '2252a');
    `before` and `after` are the words next to it, where a code may be named; `code` is set
    where the citation names its code by itself (the United States Code: 'usc18')."""

    article: str
    paragraph: str | None
    text: str
    before: str
    after: str
    code: str | None = None
    bare: bool = False  # a number after an abbreviation, no article marker: a citation only if the code is known


# A code named by its abbreviation just before a bare number: "TCK 299", "УК РФ 280.3", "PPC 295-C".
UPPER = "A-ZÀ-ÖØ-ÞĞİŞА-ЯЁІЎЄЇ"
CODE_FIRST = re.compile(rf"(?<![\w])(?P<code>[{UPPER}]{{2,6}}(?:\s[{UPPER}]{{2,3}})?)\s+(?P<number>{NUMBER})(?![\w]|[.,]\d)")


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in text)


def normalise_article(number: str) -> str:
    folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", number)).casefold().replace("之", ".")
    return _ascii_digits(folded)


def _spans(text: str) -> list[tuple[int, int, str, str | None, str | None]]:
    """(start, end, article, paragraph, code) of every citation, in text order."""
    found: list[tuple[int, int, str, str | None, str | None]] = []
    taken: list[tuple[int, int]] = []
    for m in USC.finditer(text):
        found.append((m.start(), m.end(), normalise_article(m["number"]), m["p"], f"usc{int(m['title'])}"))
        taken.append((m.start(), m.end()))

    def free(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e in taken)

    for m in CITED.finditer(text):
        if not free(m.start(), m.end()):
            continue
        for one in ONE.finditer(m["list"]):
            found.append((m.start(), m.end(), normalise_article(one["number"]), one["p1"] or one["p2"], None))
        taken.append((m.start(), m.end()))
    for pattern in (CITED_AFTER, CITED_CJK):
        for m in pattern.finditer(text):
            if free(m.start(), m.end()):
                found.append((m.start(), m.end(), normalise_article(m["number"]), None, None))
                taken.append((m.start(), m.end()))
    for m in CODE_FIRST.finditer(text):  # kept only where the code resolves (`Citation.bare`)
        if free(m.start(), m.end()):
            found.append((m.start("number"), m.end(), normalise_article(m["number"]), None, BARE))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda f: (f[0], f[1]))


def parse(text: str) -> list[Citation]:
    """Every article the text cites, in the order written, each once per place."""
    text = unicodedata.normalize("NFKC", text or "")
    spans = _spans(text)
    starts = sorted({s for s, *_ in spans})
    citations: list[Citation] = []
    seen: set[tuple[int, str, str | None]] = set()
    for start, end, article, paragraph, code in spans:
        if (start, article, paragraph) in seen:
            continue
        seen.add((start, article, paragraph))
        following = next((s for s in starts if s > start), len(text))
        after = text[end : min(end + WINDOW, max(following, end))]
        after = re.split(r"[\n;]", after, maxsplit=1)[0]
        before = re.split(r"[\n;.]", text[max(0, start - WINDOW // 2) : start])[-1]
        bare = code == BARE
        citations.append(Citation(article, paragraph, text[start:end], before, after, None if bare else code, bare))
    return citations
