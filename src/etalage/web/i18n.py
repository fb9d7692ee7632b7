"""Interface languages: Babel message catalogues compiled in memory on first use, so there is no build step.

``translations/<lang>/LC_MESSAGES/messages.po`` holds each catalogue (``etalage web messages`` extracts
new strings from the templates and Python code and merges them in). The language of a request is the
signed-in user's, else the ``etalage_lang`` cookie, else the browser's Accept-Language, else English.
Every string a page shows goes through :func:`gettext`; a message missing from a catalogue is recorded in
:data:`MISSING` so tests can fail on any English fallback.
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
import io
import threading
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

from etalage.core.money import minor_exponent

LANGUAGES: dict[str, str] = {
    "en": "English",
    "nl": "Nederlands",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
}
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "etalage_lang"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"

_catalogues: dict[str, _gettext.NullTranslations] = {}
_translated: dict[str, frozenset[str]] = {}
_lock = threading.Lock()
_current: contextvars.ContextVar[str] = contextvars.ContextVar("etalage_lang", default=DEFAULT_LANGUAGE)

# locale -> message ids a page asked for that the catalogue lacks (read by the translation tests)
MISSING: dict[str, set[str]] = defaultdict(set)


def N_(message: str) -> str:  # noqa: N802 - the conventional name for "mark for extraction only"
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def po_path(lang: str) -> Path:
    return TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po"


def _compile(lang: str) -> tuple[_gettext.NullTranslations, frozenset[str]]:
    path = po_path(lang)
    if not path.exists():
        return _gettext.NullTranslations(), frozenset()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    translated = frozenset(
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    )
    return _gettext.GNUTranslations(buf), translated


def load(force: bool = False) -> None:
    """Forget compiled catalogues (``force``) so each is compiled again, from its .po file, when first used.

    Compiling is lazy because parsing all five .po files took a fifth of a second of every server start.
    """
    with _lock:
        if force:
            _catalogues.clear()
            _translated.clear()


def _ensure(lang: str) -> str:
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    if lang not in _catalogues:
        with _lock:
            if lang not in _catalogues:
                compiled, translated = _compile(lang)
                _translated[lang] = translated
                _catalogues[lang] = compiled  # last: readers test this key without the lock
    return lang


def catalogue(lang: str) -> _gettext.NullTranslations:
    return _catalogues[_ensure(lang)]


def translated_ids(lang: str) -> frozenset[str]:
    return _translated[_ensure(lang)] if lang in LANGUAGES else frozenset()


def set_language(lang: str) -> contextvars.Token[str]:
    return _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    lang = _current.get()
    if lang != DEFAULT_LANGUAGE and message not in translated_ids(lang):
        MISSING[lang].add(message)
    return catalogue(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    lang = _current.get()
    if lang != DEFAULT_LANGUAGE and singular not in translated_ids(lang):
        MISSING[lang].add(singular)
    return catalogue(lang).ngettext(singular, plural, n)


_ = gettext


# --- choosing a language --------------------------------------------------------------------------------


def parse_accept_language(header: str | None) -> str | None:
    """The best supported language in an Accept-Language header, honouring q-values."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        piece = part.strip()
        if not piece:
            continue
        tag, _sep, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else None


def pick_language(user_locale: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (user_locale, cookie):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    return parse_accept_language(accept_language) or DEFAULT_LANGUAGE


# --- formatting in the reader's language ---------------------------------------------------------------


def money(amount_minor: int, currency: str, lang: str | None = None) -> str:
    value = Decimal(int(amount_minor)).scaleb(-minor_exponent(currency))
    return format_currency(value, currency, locale=lang or _current.get())


def number(value: float | int, lang: str | None = None) -> str:
    return format_decimal(value, locale=lang or _current.get())


def percent(ratio: float, lang: str | None = None) -> str:
    return format_percent(ratio, locale=lang or _current.get(), format="#,##0.#%")


def when(value: datetime | date | None, lang: str | None = None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _format_datetime(value, format=fmt, locale=lang or _current.get(), tzinfo=None)
    return _format_date(value, format=fmt, locale=lang or _current.get())


def region_name(code: str, lang: str | None = None) -> str:
    return Locale.parse(lang or _current.get()).territories.get(code.upper(), code.upper())
