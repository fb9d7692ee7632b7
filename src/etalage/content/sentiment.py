"""Comment sentiment for English, Dutch, French and Spanish: lexicons and rules, no model to download.

The approach is VADER's (Hutto & Gilbert, 2014), with lexicons written for shopping comments in each
language (``lexicons/*.txt``): every word or phrase carries a valence on a -4..+4 scale; a negator in the
three words before flips and damps it (x -0.74), also Dutch and French negators that follow their word
("werkt niet", "ça marche pas"); boosters and dampeners scale it; after a contrast word ("but", "maar",
"mais", "pero") words count 1.5x and before it 0.5x; ALL-CAPS words, stretched words ("sooo") and
exclamation marks add emphasis; a question counts less; emoji and emoticons carry their own valence; a
rating ("8/10", "2 stars") maps onto the scale; a positive word in scare quotes ("quality") flips.
The sum is squashed into [-1, 1] (x / sqrt(x^2 + 15)); |score| < 0.15 is neutral.

The language is detected from stopwords, lexicon hits and diacritics, falling back to the video's
language when the text is too short to tell. English slang inside other languages is understood.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "nl", "fr", "es")
NEUTRAL_BAND = 0.15
_DIR = Path(__file__).parent / "lexicons"
_NEGATION = -0.74
_BOOST, _DAMP, _CAPS, _STRETCH = 1.3, 0.6, 1.3, 1.15
_FR_ELISION = {"j", "c", "n", "l", "d", "m", "t", "s", "qu", "jusqu", "lorsqu", "puisqu"}
_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2764\u2665\u263a\u2639\u26a0][\U0001f3fb-\U0001f3ff\ufe0f]*"
)
_TOKEN = re.compile(
    r"(?P<emoticon>(?<!\w)(?:[:;=][\-']?[)(dDpP/|]+|<3+|</3|:'\())"
    r"|(?P<rating>\b\d{1,2}(?:[.,]5)?\s*/\s*(?:10|5)\b)"
    r"|(?P<stars>\b[0-5]\s*(?:stars?|sterren|ster|étoiles?|etoiles?|estrellas?)\b)"
    r"|(?P<word>\w+(?:['’]\w+)*)"
    r"|(?P<emoji>" + _EMOJI.pattern + r")"
    r"|(?P<punct>[!?.;…]+|,)",
    re.UNICODE,
)


def fold(text: str) -> str:
    """Lower case without accents: what lexicon entries and tokens are compared on."""
    text = text.lower().replace("’", "'").replace("œ", "oe").replace("æ", "ae")
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@dataclass
class Lexicon:
    valence: dict[tuple[str, ...], float] = field(default_factory=dict)
    kinds: dict[tuple[str, ...], set[str]] = field(default_factory=dict)
    stopwords: set[str] = field(default_factory=set)
    sarcasm: set[str] = field(default_factory=set)  # cues ("yeah right", 🙄) that turn praise around
    longest: int = 1

    def add(self, phrase: str, kind: str, language: str, value: float | None = None) -> None:
        # Entries are tokenised like comments are, so "j'adore" or "don't buy" match as written.
        key = tuple(fold(v) for _k, v in _tokens(phrase, language))
        if not key:
            return
        if kind == "stopwords":
            self.stopwords.add(key[0])
            return
        if value is not None:
            self.valence[key] = value
        else:
            self.kinds.setdefault(key, set()).add(kind)
        self.longest = max(self.longest, len(key))


@lru_cache
def lexicon(language: str) -> Lexicon:
    lex = Lexicon()
    section = "lexicon"
    for raw in (_DIR / f"{language}.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section == "lexicon":
            term, value = line.rsplit("\t", 1)
            lex.add(term, "valence", language, float(value))
        elif section == "sarcasm":
            lex.sarcasm.add(_emoji_key(fold(line)))
            if not _EMOJI.fullmatch(line):
                lex.add(line, "sarcasm", language)
                lex.add(line, "valence", language, -1.5)
        else:
            lex.add(line, section, language)
    return lex


@lru_cache
def emoji_valence() -> dict[str, float]:
    out = {}
    for raw in (_DIR / "emoji.txt").read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            term, value = raw.rsplit("\t", 1)
            out[_emoji_key(fold(term.strip()))] = float(value)
    return out


def _emoji_key(text: str) -> str:
    return re.sub("[\ufe0f\U0001f3fb-\U0001f3ff]", "", text)


# --- language ---------------------------------------------------------------------------------------------


def detect_language(text: str, fallback: str | None = None) -> str:
    """The most likely of en/nl/fr/es; ``fallback`` (else English) when the text does not tell."""
    return _detect(text, fallback)[0]


def _detect(text: str, fallback: str | None) -> tuple[str, bool]:
    folded = fold(text)
    words = re.findall(r"\w+", folded.replace("'", " "))
    scores = dict.fromkeys(LANGUAGES, 0.0)
    for lang in LANGUAGES:
        lex = lexicon(lang)
        for w in words:
            if w in lex.stopwords:
                scores[lang] += 1.0
            elif (w,) in lex.valence or (w,) in lex.kinds:
                scores[lang] += 0.5
    lowered = text.lower()
    scores["es"] += 2.0 * sum(lowered.count(c) for c in "ñ¿¡")
    scores["fr"] += min(3.0, 1.0 * sum(lowered.count(c) for c in "çàèùâêîôûœ"))
    scores["fr"] += 1.5 * len(re.findall(r"\b(?:c|j|n|qu|l|d)'", folded))
    scores["nl"] += 0.5 * len(re.findall(r"\w*ij\w*", folded))
    best = max(scores.values())
    if best < 1.0:
        return (fallback if fallback in LANGUAGES else "en"), False  # type: ignore[return-value]
    leaders = [lang for lang, s in scores.items() if s == best]
    if fallback in leaders:
        return fallback, True  # type: ignore[return-value]
    return leaders[0], len(leaders) == 1


# --- scoring ----------------------------------------------------------------------------------------------


@dataclass
class _Unit:
    key: tuple[str, ...]
    valence: float = 0.0
    kinds: set[str] = field(default_factory=set)
    punct: str = ""
    emoji: bool = False
    caps: bool = False
    stretched: bool = False
    used: bool = False  # a modifier that modified something does not count on its own


@dataclass(frozen=True)
class Sentiment:
    score: float  # -1 .. 1
    label: str  # negative | neutral | positive
    language: str


def _tokens(text: str, language: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup or "word", m.group()
        if kind == "word" and language == "fr" and ("'" in value or "’" in value):
            head, _, tail = value.replace("’", "'").partition("'")
            if fold(head) in _FR_ELISION and tail:
                out += [("word", head), ("word", tail)]
                continue
        out.append((kind, value))
    return out


def _destretch(word: str) -> list[str]:
    """'soooo' -> ['soo', 'so'], for lexicon lookups of stretched words."""
    two = re.sub(r"(\w)\1{2,}", r"\1\1", word)
    one = re.sub(r"(\w)\1{2,}", r"\1", word)
    return [w for w in dict.fromkeys([two, one, re.sub(r"(\w)\1+", r"\1", word)]) if w != word]


_PREFIXES = ("super", "mega", "hyper", "ultra", "extra", "kei", "bere", "over")
_SUPERLATIVE = re.compile(r"^(\w{2,}?)(isim[oa]s?)$")


def _derived(word: str) -> list[tuple[str, float]]:
    """Forms that point at a lexicon word: 'supertevreden' -> tevreden x1.3, 'rapidisimo' -> rapido x1.3."""
    out = [(alt, _STRETCH) for alt in _destretch(word)]
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            out.append((word[len(prefix) :], _BOOST))
    m = _SUPERLATIVE.match(word)
    if m:
        stem = m.group(1)
        stem = stem[:-2] + "c" if stem.endswith("qu") else stem[:-2] + "g" if stem.endswith("gu") else stem
        out += [(stem + "o", _BOOST), (stem + "a", _BOOST), (stem + "e", _BOOST)]
    return out


def _units(tokens: list[tuple[str, str]], lexes: list[Lexicon], all_caps: bool) -> list[_Unit]:
    units: list[_Unit] = []
    emoji = emoji_valence()
    words = [fold(v) if k == "word" else None for k, v in tokens]
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind in ("punct",):
            units.append(_Unit(("",), punct=value))
        elif kind in ("emoji", "emoticon"):
            units.append(_Unit((value,), valence=emoji.get(_emoji_key(fold(value)), 0.0), emoji=True))
        elif kind == "rating":
            num, den = re.split(r"\s*/\s*", value.replace(",", "."))
            frac = float(num) / float(den)
            units.append(_Unit((value,), valence=round((min(frac, 1.0) - 0.55) * 6.5, 2), emoji=True))
        elif kind == "stars":
            units.append(_Unit((value,), valence=(int(value[0]) - 3) * 1.3, emoji=True))
        else:
            matched = _match(words, i, lexes)
            if matched is None:
                word = words[i] or ""
                unit = _Unit((word,))
                for alt, factor in _derived(word):
                    found = _match([alt], 0, lexes)
                    if found is not None and found[0].valence:
                        unit = found[0]
                        unit.valence *= factor
                        break
                unit.caps = not all_caps and len(value) >= 3 and value.isupper()
                units.append(unit)
            else:
                unit, length = matched
                unit.caps = not all_caps and len(value) >= 3 and value.isupper()
                units.append(unit)
                i += length
                continue
        i += 1
    return units


def _match(words: list[str | None], i: int, lexes: list[Lexicon]) -> tuple[_Unit, int] | None:
    """The longest phrase at ``i`` in the text's language's lexicon; the others only lend valences
    (English slang in a Dutch comment), never modifiers, and never for the main language's stopwords."""
    main = lexes[0]
    for n in range(min(max(lx.longest for lx in lexes), len(words) - i), 0, -1):
        span = words[i : i + n]
        if any(w is None for w in span):
            continue
        key = tuple(span)  # type: ignore[arg-type]
        kinds = main.kinds.get(key, set())
        if key in main.valence or kinds:
            return _Unit(key, valence=main.valence.get(key, 0.0), kinds=set(kinds)), n
        if n == 1 and key[0] in main.stopwords:
            continue
        for other in lexes[1:]:
            if key in other.valence:
                return _Unit(key, valence=other.valence[key]), n
    return None


def score(text: str, language: str | None = None) -> Sentiment:
    lang, confident = _detect(text, language)
    # A text too short to tell its language may borrow from every lexicon; otherwise English only.
    others = ["en"] if confident else [lg for lg in ("en", "nl", "fr", "es")]
    lexes = [lexicon(lang)] + [lexicon(lg) for lg in others if lg != lang]
    letters = [c for c in text if c.isalpha()]
    all_caps = bool(letters) and all(c.isupper() for c in letters)
    units = _units(_tokens(text, lang), lexes, all_caps)
    quoted = {fold(w) for w in re.findall(r"[\"“”«]\s*(\w+)\s*[\"“”»]", text)}
    # Quoting the seller's claim ("lasts all day") in a comment is almost always to contradict it.
    claims = re.findall(r"[\"“”«]\s*\w+(?:\s+\w+){1,5}\s*[\"“”»]", text)
    sarcastic = bool(claims) or any(
        "sarcasm" in u.kinds or (u.emoji and _emoji_key(fold(u.key[0])) in lexes[0].sarcasm) for u in units
    )

    for i, u in enumerate(units):
        if not u.valence or u.emoji:
            continue
        for step, j in enumerate((i - 1, i - 2)):  # boosters and dampeners just before
            if j < 0 or units[j].punct or "contrast" in units[j].kinds:
                break
            if "boosters" in units[j].kinds:
                u.valence *= _BOOST if step == 0 else 1.15
                units[j].used = True
            elif "dampeners" in units[j].kinds:
                u.valence *= _DAMP
                units[j].used = True
        negated = False
        for j in (i - 1, i - 2, i - 3):
            if j < 0 or units[j].punct or "contrast" in units[j].kinds:
                break
            if "negators" in units[j].kinds:
                negated = True
                units[j].used = True
                break
        if not negated:  # "werkt niet", "ça marche pas": a negator right after, ending the clause
            for j in (i + 1, i + 2):
                if j >= len(units) or units[j].punct or (units[j].valence and not units[j].kinds):
                    break
                if "post_negators" in units[j].kinds and _ends_clause(units, j):
                    negated = True
                    break
        if negated:
            u.valence *= _NEGATION
        if u.caps:
            u.valence *= _CAPS
        if u.stretched:
            u.valence *= _STRETCH
        if u.valence > 0 and ((len(u.key) == 1 and u.key[0] in quoted) or sarcastic):
            u.valence = -0.5 * u.valence  # "quality", or praise next to an eye-roll, is not praise

    contrast = max((i for i, u in enumerate(units) if "contrast" in u.kinds and not u.used), default=-1)
    total, sentence, emphasis = 0.0, 0.0, 0
    for i, u in enumerate(units):
        if u.punct:
            if "?" in u.punct:
                sentence *= 0.4  # a question asks more than it judges
            emphasis += u.punct.count("!")
            total += sentence
            sentence = 0.0
            continue
        value = 0.0 if u.used else u.valence
        if contrast >= 0 and not u.emoji:
            value *= 0.5 if i < contrast else 1.5
        sentence += value
    total += sentence
    if total:
        total += math.copysign(min(emphasis, 4) * 0.292, total)
    compound = total / math.sqrt(total * total + 15)
    label = "positive" if compound >= NEUTRAL_BAND else "negative" if compound <= -NEUTRAL_BAND else "neutral"
    return Sentiment(round(compound, 4), label, lang)


def _ends_clause(units: list[_Unit], j: int) -> bool:
    """A trailing negator ends its clause: nothing with a valence follows before the punctuation."""
    for k in range(j + 1, min(j + 4, len(units))):
        if units[k].punct or "contrast" in units[k].kinds:
            return True
        if units[k].valence and not units[k].emoji:
            return False
    return True
