"""The catalogue: one module per tab (and one for genmodels' messages), each with ZH (Chinese for every key) and EN
(English for keys that are ids rather than the English text itself). Merged here; a key given two different
translations is an error at import."""

import importlib

MODULES = (
    "common",
    "gan",
    "vae",
    "vqvae",
    "diffusion",
    "scoreboard",
    "text",
    "language",
    "training",
    "lesson",
    "genmodels",
    "learn",
)
EN: dict[str, str] = {}
ZH: dict[str, str] = {}

for _name in MODULES:
    _module = importlib.import_module(f"{__name__}.{_name}")
    for _target, _source in ((ZH, _module.ZH), (EN, getattr(_module, "EN", {}))):
        for _key, _text in _source.items():
            if _target.get(_key, _text) != _text:
                raise ValueError(f"demos/locales/{_name}.py translates {_key!r} differently from another module")
            _target[_key] = _text
