"""The Jinja2 environment: autoescaping, the i18n extension wired to the request's catalogue, helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from etalage.web import assets, i18n

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _static(path: str) -> str:
    return assets.url(path)


def _json_script(value: Any, element_id: str) -> Markup:
    """Data for a page's script, as a non-executable JSON block (allowed by the CSP)."""
    import orjson

    text = orjson.dumps(value).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/json" id="{element_id}">{text}</script>')


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"], default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
    )
    # newstyle: Jinja escapes the translation and fills "%(name)s" placeholders with escaped values.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static=_static,
        module_preloads=assets.module_graph,
        money=i18n.money,
        number=i18n.number,
        percent=i18n.percent,
        when=i18n.when,
        region_name=i18n.region_name,
        LANGUAGES=i18n.LANGUAGES,
        json_script=_json_script,
    )
    return env


_env: Environment | None = None


def environment() -> Environment:
    global _env
    if _env is None:
        _env = build_environment()
    return _env


def render_template(template_name: str, lang: str, /, **context: Any) -> str:
    token = i18n.set_language(lang)
    try:
        return environment().get_template(template_name).render(lang=lang, **context)
    finally:
        i18n._current.reset(token)
