"""Find the claims a text makes about the client, and the false ones among them.

Why a recogniser and not "trust the template": an LLM writes its own sentences, and the
template's choice can break when features or facts change. Every text a client may see,
template or LLM, is read back here and each recognised claim's predicate is checked
against the client's facts (core.explain.claims). The guardrail rejects a text with a false
claim and the client gets the (checked) template text instead.

Recognised (case-insensitive, "ё" read as "е"):
- every claim's own phrase, as the template writes it;
- life events, "several products", a regular salary, in the patterns the claims declare;
- held products: a possession cue ("you already have", "у вас уже есть", "вы пользуетесь",
  "your current") followed, within the same clause, by a catalog product's name (any
  inflected form of each of its words) or code: claim "holds:<code>"; a past cue ("you used
  to have", "у вас раньше был") the same way: claim "had:<code>".

Conservative by design: a false alarm costs only the LLM's wording, a miss costs the
client's trust.
"""

from __future__ import annotations

import re
from functools import lru_cache

from core.explain.claims import Claim, all_claims, had_claim, holds_claim, product_names
from core.explain.types import ClientFacts, Language

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")

_HOLD_CUES: tuple[str, ...] = (
    r"у вас (?:(?:уже|сейчас|также|тоже|ведь) )*(?:есть|имеется|имеются|открыт\w*|оформлен\w*)",
    r"вы (?:(?:уже|сейчас|также|тоже|ведь) )*(?:пользуетесь|используете|держите|владеете)",
    r"вы уже (?:оформили|открыли)",
    r"ваш\w* (?:текущ|действующ|имеющ)\w*",
    r"\byou (?:(?:already|currently|also|still) )*(?:have|hold|use|own)\b",
    r"\balready (?:have|hold|use|own)\b",
    r"\byour (?:existing|current)\b",
)
_HAD_CUES: tuple[str, ...] = (
    r"(?:раньше|ранее|прежде) (?:у вас )?(?:был|была|были|было)\b",
    r"у вас (?:раньше|ранее|прежде) (?:был|была|были|было)\b",
    r"вы (?:раньше|ранее|прежде) (?:пользовались|использовали|оформляли)",
    r"\byou used to (?:have|hold|use|own)\b",
    r"\byou (?:previously|once|formerly) (?:had|held|used|owned)\b",
    r"\byou had\b",
)
# A clause ends at punctuation or a word that starts a new thought; "and you" starts a new
# clause with its own verb ("you use your account actively and you pay taxes": not a product
# held), while "and" alone may join a list of held products, which stays in the clause.
_CLAUSE_END = re.compile(
    r"[.!?;:,—–\n]|\b(?:but|so|because|while|which|that|we|as|and we|and you|and your|"
    r"но|поэтому|потому|мы|который|которая|которые|чтобы|так как|а|и вы|и у вас|и ваш\w*)\b"
)


def normalise(text: str) -> str:
    return text.casefold().replace("ё", "е")


def stem(word: str) -> str:
    """A crude stem so that inflected Russian forms match ("кредитную карту" ~ "Кредитная
    карта"): the word less its last two letters, keeping at least three. Other scripts keep
    the whole word (English "card" must not match "car")."""
    if not _CYRILLIC.search(word) or len(word) <= 3:
        return word
    return word[: max(3, len(word) - 2)]


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[Claim, tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]], ...]:
    """(claim, ru patterns, en patterns) for every claim but the product ones."""
    out = []
    for claim in all_claims():
        if claim.id.startswith(("holds:", "had:")):
            continue
        ru = (re.escape(normalise(claim.phrase[0])), *claim.patterns[0])
        en = (re.escape(normalise(claim.phrase[1])), *claim.patterns[1])
        out.append((claim, tuple(map(re.compile, ru)), tuple(map(re.compile, en))))
    return tuple(out)


@lru_cache(maxsize=1)
def _name_words() -> tuple[tuple[str, tuple[str, ...], frozenset[str], tuple[str, ...]], ...]:
    """(code, exact forms, name words, word stems) per product name, both languages. A word
    under 3 letters ("e" of "e-account") stays whole and must appear as a word itself."""
    out = []
    for code, names in sorted(product_names().items()):
        for name in names:
            norm = normalise(name)
            words = tuple(_WORD.findall(norm))
            out.append((code, (norm, code), frozenset(words), tuple(stem(w) for w in words)))
    return tuple(out)


def _word_match(words: list[str], name_stem: str) -> bool:
    if len(name_stem) < 3:
        return name_stem in words
    return any(w.startswith(name_stem) for w in words)


def products_named(span: str) -> set[str]:
    """Codes of the bank products a (normalised) span names; when one name's words are all
    part of another named one ("Счёт «Частный»" in "Счёт «Частный плюс»"), the longer wins."""
    words = _WORD.findall(span)
    hits: list[tuple[str, frozenset[str]]] = []
    for code, exact, name_words, stems in _name_words():
        if any(e in span for e in exact) or (stems and all(_word_match(words, s) for s in stems)):
            hits.append((code, name_words))
    return {c for c, ws in hits if not any(ws < other for _, other in hits)}


def _spans(text: str, cues: tuple[str, ...], starts: list[int]) -> list[str]:
    """For each cue in the text: the text from the cue to the end of its clause or to the
    next cue of any kind (`starts`), whichever comes first."""
    spans = []
    for cue in cues:
        for m in re.finditer(cue, text):
            end = _CLAUSE_END.search(text, m.end())
            stop = min([s for s in starts if s >= m.end()] + [end.start() if end else len(text)])
            spans.append(text[m.start() : stop])
    return spans


def _product_claims(text: str) -> list[Claim]:
    found: dict[str, Claim] = {}
    starts = sorted(m.start() for cue in (*_HOLD_CUES, *_HAD_CUES) for m in re.finditer(cue, text))
    for cues, make in ((_HOLD_CUES, holds_claim), (_HAD_CUES, had_claim)):
        for span in _spans(text, cues, starts):
            for code in sorted(products_named(span)):
                claim = make(code)
                if claim is not None:
                    found[claim.id] = claim
    return list(found.values())


def claims_in(text: str, language: Language) -> list[Claim]:
    """The claims about the client this text makes (each once), in no particular order."""
    norm = normalise(text)
    found: list[Claim] = []
    for claim, ru, en in _compiled():
        if any(p.search(norm) for p in (en if language == "en" else ru)):
            found.append(claim)
    return found + _product_claims(norm)


def false_claims(text: str, language: Language, facts: ClientFacts) -> list[Claim]:
    """The claims this text makes that are not true for these facts."""
    return [c for c in claims_in(text, language) if not c.true_for(facts)]


__all__ = ["claims_in", "false_claims", "normalise", "products_named", "stem"]
