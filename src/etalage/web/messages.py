"""Keeping the message catalogues in step with the code: extract, merge, and check for gaps.

``etalage web messages`` extracts every translatable string from the templates (``_()``, ``{% trans %}``)
and the web package's Python code (``_``, ``N_``, ``gettext``, ``ngettext``) and merges them into each
language's ``messages.po``. :func:`untranslated` lists what a catalogue still lacks; a test keeps it empty.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from etalage.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, po_path

WEB_DIR = Path(__file__).parent
# Fixed header dates keep the catalogues' diffs to what changed in them.
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}


def extract() -> Catalog:
    template = Catalog(
        project="Etalage",
        copyright_holder="The Etalage authors",
        msgid_bugs_address="https://etalage.dev/issues",
        creation_date=STABLE_DATE,
        revision_date=STABLE_DATE,
        fuzzy=False,
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        WEB_DIR, METHODS, keywords=KEYWORDS, options_map=OPTIONS, strip_comment_tags=True
    ):
        if filename.startswith("static/"):
            continue
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(
            locale=lang,
            header_comment=f"# {LANGUAGES[lang]} messages of the Etalage web app.\n"
            "# Licensed like Etalage itself (AGPL-3.0-or-later).\n#",
            project="Etalage",
            version="1",
            copyright_holder="The Etalage authors",
            msgid_bugs_address="https://etalage.dev/issues",
            fuzzy=False,
        )
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def write(lang: str, catalog: Catalog) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    catalog.creation_date = catalog.revision_date = STABLE_DATE
    catalog.last_translator = "The Etalage authors"
    catalog.language_team = f"{LANGUAGES.get(lang, lang)} <https://etalage.dev/issues>"
    write_po(
        buf,
        catalog,
        width=110,
        omit_header=False,
        ignore_obsolete=True,
        sort_output=False,
        include_lineno=False,
    )
    path.write_bytes(buf.getvalue())


def update() -> dict[str, int]:
    """Merge the extracted strings into every catalogue; returns each language's count of gaps."""
    template = extract()
    gaps = {}
    for lang in LANGUAGES:
        catalog = read(lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False
        write(lang, catalog)
        gaps[lang] = len(untranslated(lang, catalog)) if lang != DEFAULT_LANGUAGE else 0
    return gaps


def untranslated(lang: str, catalog: Catalog | None = None) -> list[str]:
    catalog = catalog or read(lang)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def stale() -> list[str]:
    """Strings in the code that the catalogues do not know yet (run ``etalage web messages``)."""
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in read(DEFAULT_LANGUAGE) if m.id}
    return sorted({m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id} - known)
