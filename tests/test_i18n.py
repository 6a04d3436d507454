"""English and 简体中文: every string the page or a handler shows has a Chinese translation (issue 14, item 4)."""

import ast
import re
import string
from pathlib import Path

import pytest
from gradio.i18n import I18nData

from demos.i18n import (
    I18N,
    T,
    english,
    language_of,
    language_scope,
    normalise,
    tr,
    translate_message,
)
from demos.locales import EN, ZH

ROOT = Path(__file__).resolve().parent.parent
TEXT_PROPS = ("label", "info", "placeholder", "title", "description")
# Components whose `value` is words for the reader (others hold data: a prompt, a number, a picture).
WORDY_VALUES = {"markdown", "button", "html"}
# Words that stay as they are in Chinese text: names, units, formats, and symbols used in Chinese writing too.
KEPT_WORDS = {
    "GenLab",
    "GAN",
    "GANs",
    "VAE",
    "VAEs",
    "MNIST",
    "GPT",
    "SmolLM2",
    "GIF",
    "PNG",
    "JPEG",
    "API",
    "KL",
    "ELBO",
    "GANSpace",
    "slerp",
    "lerp",
    "Inception",
    "Fréchet",
    "Tiny",
    "Shakespeare",
    "English",
    "true",
    "false",
    "top",
    "ReLU",
    "PyTorch",
    "LoRA",
    "BLEU",
    "chrF",
    "nats",
    "bits",
    "MB",
    "GB",
    "KB",
    "CPU",
    "GPU",
    "ms",
}
KEPT_WORDS |= {"SmolLM", "Hugging", "Face", "Hub", "Adam", "TOML"}
KEPT_WORDS |= {"U-Net", "DDPM", "DDIM", "VQ-VAE", "SNR"}  # the names of the diffusion and VQ-VAE parts
LATIN_WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’-]{2,}")


def english_left(text: str) -> list[str]:
    """Latin words in text that a Chinese page should not show: not a kept word, a model name, code or a number."""
    text = re.sub(r"`[^`]*`", " ", text)  # code spans
    text = re.sub(r"[\w/]+\.py(?::\d+)?", " ", text)  # source files
    text = re.sub(r"\*\*[a-z0-9]+(?:-[a-z0-9]+)+\*\*|\b[a-z0-9]+(?:-[a-z0-9]+)+\b", " ", text)  # model names
    return [word for word in LATIN_WORD.findall(text) if word not in KEPT_WORDS]


def key_of(value: str) -> str | None:
    match = re.search(r'__i18n__\{"__type__": "translation_metadata", "key": (".*?(?<!\\)")\}', value)
    return None if match is None else __import__("json").loads(match.group(1))


def _as_sent(value):
    """A prop as the page receives it: the config holds T()'s I18nData objects, sent as their marker strings."""
    return str(value) if isinstance(value, I18nData) else value


def shown_strings(demo):
    """(component type, where, string) for each string the page shows for the app's components."""
    config = demo.config
    for component in config["components"]:
        kind, props = component["type"], component.get("props", {})
        for prop in TEXT_PROPS:
            if isinstance(_as_sent(props.get(prop)), str):
                yield kind, prop, _as_sent(props[prop])
        if kind in WORDY_VALUES and isinstance(_as_sent(props.get("value")), str):
            yield kind, "value", _as_sent(props["value"])
        for choice in props.get("choices") or []:
            shown = _as_sent(choice[0] if isinstance(choice, (list, tuple)) else choice)
            if isinstance(shown, str):
                yield kind, "choice", shown


@pytest.fixture(scope="module")
def demo():
    from app import build_app

    return build_app()


def test_every_fixed_string_on_the_page_has_chinese(demo):
    missing = []
    for kind, where, value in shown_strings(demo):
        key = key_of(value)
        if key is not None:
            if key not in ZH:
                missing.append((kind, where, key))
        elif value.startswith("<style>") or value.strip() in ("", "# GenLab"):
            continue
        elif english_left(value):
            missing.append((kind, where, value[:80]))
    assert not missing, f"{len(missing)} strings without a translation, e.g. {missing[:8]}"
    assert sum(1 for _, _, value in shown_strings(demo) if key_of(value)) > 100  # the walk does see the page


def fields(template: str) -> list[tuple[str, str]]:
    return sorted((name, spec) for _, name, spec, _ in string.Formatter().parse(template) if name is not None)


def test_translations_keep_every_placeholder_and_are_chinese():
    for key, chinese in ZH.items():
        source = english(key)
        if "$" in source or "\\" in source:
            continue  # formulas: checked in the browser, where they render
        assert fields(source) == fields(chinese), f"{key!r}: placeholders differ"
        if len(LATIN_WORD.findall(source)) >= 2:
            assert re.search(r"[\u4e00-\u9fff]", chinese), f"{key!r} is not translated: {chinese!r}"
    assert set(EN) <= set(ZH), f"ids without Chinese: {sorted(set(EN) - set(ZH))[:5]}"
    assert I18N.translations["zh-CN"] == ZH and set(I18N.translations["en"]) == set(ZH)


def test_standard_chinese_terms():
    assert "生成对抗网络" in ZH["GAN"]
    assert ZH["Truncation ψ"].startswith("截断")
    assert "变分自编码器" in ZH["VAE"]
    assert "温度" in ZH["Temperature"]


def _calls(tree, names):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in names:
                yield node


def test_handlers_show_no_untranslated_literal():
    """Messages go through tr(): a literal given straight to an error, notice or toast would stay English."""
    shown_raw, unknown = [], []
    for path in sorted((ROOT / "demos").glob("*.py")):
        tree = ast.parse(path.read_text())
        for call in _calls(tree, {"UserError", "Error", "Warning", "Info", "add"}):
            if call.args and isinstance(call.args[0], (ast.Constant, ast.JoinedStr)):
                shown_raw.append(f"{path.name}:{call.lineno}")
        for call in _calls(tree, {"tr", "T"}):
            if call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value not in ZH:
                unknown.append(f"{path.name}:{call.lineno}: {call.args[0].value[:60]!r}")
        # Names given to the argument checks appear in their messages.
        for call in _calls(tree, {"integer", "number", "flag", "choice", "clean_text"}):
            if len(call.args) > 1 and isinstance(call.args[1], ast.Constant) and call.args[1].value not in ZH:
                unknown.append(f"{path.name}:{call.lineno}: name {call.args[1].value!r}")
    assert not shown_raw, f"shown without tr(): {shown_raw}"
    assert not unknown, f"not in the catalogue: {unknown}"


# genmodels raises in English; these messages never reach a page (developer errors, or caught and reworded).
INTERNAL = {
    "n_embd must be a multiple of n_head",
    "the pixel head's kernel must be odd and at least 3, not {}",
    "at least one job must be able to run",
    "this generator is class-conditional: pass class labels",
    "this discriminator is class-conditional: pass class labels",
    "GENLAB_DEVICE asks for CUDA but no CUDA device is available",
    "scoring needs at least two tokens",
    "wrong result",  # lm_kernels: a kernel's self-test, caught where it is raised
    # a self-conditioned GAN's setup, reached only from `python -m genmodels.train gan --cluster-codes` and code
    "k must be 2 to {}",
    "code_source must be 'q' or 'clusters', not {}",
    "this discriminator scores images against their category: pass each one's code",
    "a clustered GAN needs each training image's cluster (codes, shaped like labels)",
    "clusters must be 0 to {}",
    "a clustered GAN trains with the hinge, non-saturating or least-squares loss",
    "neighbours must be 1 to {} and dims 1 to {}",
    "space must be one of {}",
    "only an unconditional self-conditioned GAN scores images against its best category",
}
USER_FACING = {
    "ValueError",
    "ImageRejected",
    "UnknownModel",
    "RunAccessError",
    "LessonLocked",
    "RuntimeError",
    "LessonError",
    "DatasetUnavailable",
    "ModelUnavailable",
}


def _template(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def _normalised(template: str) -> str:
    try:
        parts = string.Formatter().parse(template)
        text = "".join(literal + ("{}" if name is not None else "") for literal, name, _, _ in parts)
    except ValueError:
        text = template
    return text.rstrip(".")


def test_every_message_genmodels_can_show_has_chinese():
    known = {_normalised(english(key)).lower() for key in ZH}
    missing = []
    for path in sorted((ROOT / "genmodels").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
                continue
            name = getattr(node.exc.func, "id", None)
            template = _template(node.exc.args[0])
            if name in USER_FACING and template is not None and template not in INTERNAL:
                if _normalised(template).lower() not in known:
                    missing.append(f"{path.name}:{node.lineno}: {template[:70]!r}")
    assert not missing, f"{len(missing)} genmodels messages without Chinese: {missing[:10]}"


def test_messages_from_genmodels_are_translated_with_their_values():
    with language_scope("zh-CN"):
        text = translate_message("Grid size 99 is outside 1 to 64; using 64.")
        assert text.startswith("网格大小") or "99" in text
        assert translate_message("no such message at all") == "no such message at all"
    with language_scope("en"):
        assert translate_message("Unknown GAN model: x.") == "Unknown GAN model: x."


def test_tr_follows_the_request_language():
    with language_scope("zh-CN"):
        chinese = tr(
            "{name} {value} is outside {low} to {high}; using {clamped}.",
            name=tr("Grid size"),
            value="99",
            low="1",
            high="64",
            clamped="64",
        )
    assert chinese == "网格大小 99 超出 1 到 64 的范围；改用 64。"
    assert tr("Grid size") == "Grid size"  # English outside a Chinese request
    with pytest.raises(KeyError):
        T("A label nobody translated")


class FakeRequest:
    def __init__(self, cookies=None, headers=None):
        self.cookies, self.headers = cookies or {}, headers or {}


@pytest.mark.parametrize(
    ("cookies", "headers", "expected"),
    [
        ({}, {}, "en"),
        ({}, {"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}, "zh-CN"),
        ({}, {"accept-language": "fr-FR,zh;q=0.8"}, "zh-CN"),  # the first language we speak
        ({}, {"accept-language": "de-DE,fr"}, "en"),
        ({"genlab_lang": "en"}, {"accept-language": "zh-CN"}, "en"),  # the page's switch wins over the browser
        ({"genlab_lang": "zh-CN"}, {}, "zh-CN"),
        ({"genlab_lang": "<script>"}, {"accept-language": "x" * 10_000}, "en"),
    ],
)
def test_language_of_a_request(cookies, headers, expected):
    assert language_of(FakeRequest(cookies, headers)) == expected


def test_normalise():
    assert normalise("zh_cn") == normalise("zh-Hans") == normalise("zh") == "zh-CN"
    assert normalise("zh-TW") is None and normalise("en-GB") == "en" and normalise(None) is None


def test_a_choice_sent_as_its_translated_label_is_taken_for_its_value():
    """After the page switches language Gradio sends a dropdown's display text; either language's label works."""
    from demos.common import UserError, choice
    from demos.learn import prediction_index

    assert choice("0-9 轮流", "Digit", ["0-9 in turn", "0"]) == "0-9 in turn"
    assert choice("球面插值（slerp）", "Path", ["spherical (slerp)", "linear (lerp)"]) == "spherical (slerp)"
    labels = {"gan.paths": "exp.gan.paths.title"}
    assert choice(ZH["exp.gan.paths.title"], "Experiment", ["gan.paths"], labels) == "gan.paths"
    assert choice(english("exp.gan.paths.title"), "Experiment", ["gan.paths"], labels) == "gan.paths"
    with pytest.raises(UserError):
        choice("nothing like it", "Digit", ["0-9 in turn", "0"])
    options = ["exp.gan.paths.option1", "exp.gan.paths.option2"]
    assert prediction_index(ZH["exp.gan.paths.option2"], options) == 1
    assert prediction_index(None, options) == -1 and prediction_index(1, options) == 1
