"""English and 简体中文 for every word the page shows.

Two kinds of text, one catalogue (demos/locales):
- Fixed text (labels, info, Markdown, choices, buttons) is `T("English")`: Gradio's I18n sends both languages and the
  browser picks one, from its own language or from the page's language switch, without asking the server.
- Text a handler writes (results, notices, errors, alt texts) is `tr("English {name}", name=...)`, translated on the
  server into the language of the request: the `genlab_lang` cookie the page keeps in step with its language,
  else the browser's Accept-Language, else English (an API client can send either header).
Messages raised by genmodels (which knows no languages) are matched against the catalogue's templates at the
boundary (`translate_message`): "unknown model 'x'; available: a, b" finds "unknown model {name}; available: {known}".

The catalogue's keys are the English text itself (short strings) or an id (long passages, English in EN).
"""

import contextlib
import contextvars
import functools
import re
import string

import gradio as gr

from .locales import EN, ZH

LANGUAGES = {"en": "English", "zh-CN": "简体中文"}
COOKIE = "genlab_lang"
_language: contextvars.ContextVar[str] = contextvars.ContextVar("genlab_language", default="en")


def english(key: str) -> str:
    return EN.get(key, key)


def T(key: str) -> gr.I18n:
    """Fixed text the browser shows in its language. Unknown keys fail at build time, not on a Chinese page."""
    if key not in ZH:
        raise KeyError(f"no Chinese for {key!r}: add it to demos/locales")
    return I18N(key)


def I18n() -> gr.I18n:
    """The catalogue as Gradio's I18n, for launch(i18n=...)."""
    return gr.I18n(en={key: english(key) for key in ZH}, **{"zh-CN": dict(ZH)})


I18N = I18n()


def normalise(tag: str | None) -> str | None:
    """A language tag as one of LANGUAGES, or None: zh, zh-CN, zh-Hans, zh_cn -> zh-CN; en-GB -> en."""
    tag = (tag or "").strip().replace("_", "-").lower()
    if tag.startswith("zh"):
        return "zh-CN" if tag not in ("zh-tw", "zh-hk", "zh-hant", "zh-mo") else None
    if tag.startswith("en"):
        return "en"
    return None


def language_of(request) -> str:
    """The language a request wants: the page's cookie, else the first language of Accept-Language we speak."""
    if request is None:
        return "en"
    cookies = getattr(request, "cookies", None) or {}
    chosen = normalise(cookies.get(COOKIE) if hasattr(cookies, "get") else None)
    if chosen:
        return chosen
    headers = getattr(request, "headers", None) or {}
    accept = headers.get("accept-language", "") if hasattr(headers, "get") else ""
    for part in str(accept)[:200].split(","):
        chosen = normalise(part.split(";")[0])
        if chosen:
            return chosen
    return "en"


def current_language() -> str:
    return _language.get()


@contextlib.contextmanager
def language_scope(language: str):
    # set back rather than reset: a streaming handler's steps run in copies of the context it began in
    previous = _language.get()
    _language.set(language if language in LANGUAGES else "en")
    try:
        yield
    finally:
        _language.set(previous)


def tr(key: str, **params) -> str:
    """`key` (English text with {placeholders}, or an id) in the current request's language, filled in."""
    if _language.get() == "zh-CN":
        text = ZH.get(key)
        if text is None:
            text = english(key)
    else:
        text = english(key)
    return text.format(**params) if params else text


def both(key: str, **params) -> dict[str, str]:
    """`key` in every language (for tests and for text stored before the reader's language is known)."""
    result = {}
    for language in LANGUAGES:
        with language_scope(language):
            result[language] = tr(key, **params)
    return result


_PLAIN_FIELD = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")  # {low:,} -> {low}: matched values are text already


@functools.cache
def _patterns() -> list[tuple[re.Pattern, str]]:
    """A regular expression for each English template with placeholders, most literal text first."""
    patterns = []
    for key in ZH:
        template = english(key)
        if "$" in template or "\\" in template:  # formulas, never a message template
            continue
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
        except ValueError:
            continue
        if not fields:
            continue
        regex = ""
        for literal, field, _, _ in string.Formatter().parse(template):
            regex += re.escape(literal)
            if field is not None:
                regex += f"(?P<{field}>.+?)" if f"(?P<{field}>" not in regex else f"(?P={field})"
        literal_size = len(template) - sum(len(f) + 2 for f in fields)
        patterns.append((literal_size, re.compile(regex, re.DOTALL), key))
    patterns.sort(key=lambda item: -item[0])
    return [(pattern, key) for _, pattern, key in patterns]


def translate_message(message: str) -> str:
    """A message written in English elsewhere (genmodels), in the current language where the catalogue knows it.

    A message whose first letter was capitalised for display is matched too. Each value filled into a template is
    translated the same way (a message may carry another: "Training failed: {error}"), else kept as it came.
    """
    if _language.get() == "en" or not message:
        return message
    text = message.strip()
    if text in ZH:
        return ZH[text]
    for candidate in dict.fromkeys((text, text[:1].lower() + text[1:], text.rstrip("."))):
        for pattern, key in _patterns():
            match = pattern.fullmatch(candidate)
            if match:
                values = {name: translate_message(value) for name, value in match.groupdict().items()}
                return _PLAIN_FIELD.sub(r"{\1}", ZH[key]).format(**values)
    return message
