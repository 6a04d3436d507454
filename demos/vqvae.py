"""The VAE tab's VQ-VAE section (issue 11): a digit becomes a 7x7 grid of codebook indices (tokens), each cell can
be changed by hand, the codebook's use is counted, and a small GPT over the code grid writes new digits."""

import gradio as gr
import pandas as pd
import torch

from genmodels.data import DatasetUnavailable, held_out_digits, to_signed
from genmodels.imaging import code_grid, grid, side_by_side
from genmodels.registry import Registry, UnknownModel
from genmodels.sampling import MAX_SEED
from genmodels.vq_pipeline import (
    MAX_SAMPLES,
    codebook_usage,
    decode_codes,
    encode_digit,
    format_codes,
    parse_codes,
    replace_code,
    sample_digits,
)
from genmodels.vqvae import GRID

from .common import (
    IMAGES,
    Notices,
    UserError,
    choice,
    described,
    friendly,
    held_out_digit,
    integer,
    judge_description,
    number,
    picture_file,
    plot_titles,
    then_describe,
    with_session,
)
from .i18n import T, tr, translate_message
from .learn import LATEX

SCALE = 8  # the code grid picture: 224 pixels, cells of 32
CELL = 28 * SCALE // GRID
MIXED, ANY = "0-9 in turn", "any digit (no class)"
DIGITS = [MIXED, ANY] + [str(digit) for digit in range(10)]


class VQTab:
    def __init__(self, registry: Registry):
        self.registry = registry

    def _model(self, name):
        try:
            return self.registry.load(name, "vqvae")
        except UnknownModel as error:
            raise UserError(tr("Unknown VQ-VAE model: {error}.", error=translate_message(str(error)))) from None

    def _show(self, name, codes: torch.Tensor, highlight=None, what: str = ""):
        """The code grid drawn over the digit it decodes to, the codes as text, and the judge's reading."""
        model = self._model(name)
        image = decode_codes(model, codes)
        picture = code_grid(image, codes, SCALE, highlight)
        alt = judge_description(self.registry, what or tr("The digit these codes decode to"), image.unsqueeze(0))
        return described(picture_file(picture), alt), format_codes(codes)

    def encode(self, name, index):
        """A held-out digit -> (the digit, its code grid over the reconstruction, the codes as text, info)."""
        notices = Notices()
        model = self._model(name)
        digits, position = held_out_digit(index, notices)
        image = to_signed(digits.images[position : position + 1])[0]
        codes, reconstruction = encode_digit(model, image)
        original = grid(image.unsqueeze(0), scale=SCALE, padding=0)
        picture, text = self._show(name, codes, what=tr("The reconstruction from the codes"))
        error = float(((reconstruction - image) / 2).square().mean())
        info = tr(
            "Held-out digit #{position} (a {digit}) became {count} codes, {distinct} of them different, out of a "
            "codebook of {size}. Reconstruction error {error:.4f} per pixel. Click a cell to pick it, then put "
            "another code there.",
            position=position,
            digit=int(digits.labels[position]),
            count=GRID * GRID,
            distinct=len(codes.unique()),
            size=model.config.codebook_size,
            error=error,
        )
        alt = tr("Held-out digit #{position}", position=position)
        return described(picture_file(original), alt), picture, text, notices.markdown() + info

    def edit(self, name, codes_text, row, column, code):
        """Put `code` in the cell (row, column) of the grid written in codes_text, and decode the result."""
        notices = Notices()
        model = self._model(name)
        size = model.config.codebook_size
        codes = parse_codes(codes_text, size)
        row = integer(row, "Row", 0, GRID - 1, notices)
        column = integer(column, "Column", 0, GRID - 1, notices)
        code = integer(code, "Code", 0, size - 1, notices)
        before = int(codes[row, column])
        codes = replace_code(codes, row, column, code, size)
        picture, text = self._show(name, codes, (row, column))
        info = tr(
            "Cell ({row}, {column}): code {before} → {code}. The decoder draws that 4x4-pixel patch (and a little "
            "around it) from the new code's vector.",
            row=row,
            column=column,
            before=before,
            code=code,
        )
        return picture, text, notices.markdown() + info

    def decode(self, name, codes_text):
        """Decode a code grid as written (7 rows of 7 numbers)."""
        model = self._model(name)
        codes = parse_codes(codes_text, model.config.codebook_size)
        picture, text = self._show(name, codes)
        return picture, text, tr("Decoded the codes as written.")

    def pick(self, event: gr.SelectData):
        """A click on the code grid picture -> its cell (row, column)."""
        x, y = event.index
        return min(max(int(y) // CELL, 0), GRID - 1), min(max(int(x) // CELL, 0), GRID - 1)

    def usage(self, name):
        """How often each code is used over the 1,000 held-out digits: dead codes show as empty bars."""
        model = self._model(name)
        try:
            digits = to_signed(held_out_digits().images)
        except DatasetUnavailable:
            raise UserError(tr("The MNIST digits are not available on this server.")) from None
        counts = self.registry.derived(name, "code-usage", lambda m: codebook_usage(m, digits))
        size = model.config.codebook_size
        used = int((counts > 0).sum())
        shares = counts.double() / counts.sum()
        nonzero = shares[shares > 0]
        perplexity = float(torch.exp(-(nonzero * nonzero.log()).sum()))
        table = pd.DataFrame(
            {"code": list(range(size)), "uses": counts.tolist(), "series": [tr("held-out digits")] * size}
        )
        text = tr(
            "Over the 1,000 held-out digits ({total:,} cells): **{used}** of {size} codes are used, **{dead}** are "
            "dead (never chosen); perplexity {perplexity:.1f} (as if {perplexity:.0f} codes were used equally). The "
            "most used code, {top}, fills {share:.0%} of the cells.",
            total=int(counts.sum()),
            used=used,
            size=size,
            dead=size - used,
            perplexity=perplexity,
            top=int(counts.argmax()),
            share=float(shares.max()),
        )
        return table, text

    def sample(self, name, seed, count, digit, temperature, top_k):
        """New digits from the GPT over code grids: a grid of samples and the first one's codes."""
        notices = Notices()
        model = self._model(name)
        seed = integer(seed, "Seed", 0, MAX_SEED, notices)
        count = integer(count, "Samples", 1, MAX_SAMPLES, notices)
        temperature = number(temperature, "Temperature", 0.05, 5.0, notices)
        top_k = integer(top_k, "Top-k", 0, model.config.codebook_size, notices)
        digit = choice(str(digit) if isinstance(digit, int) else digit, "Digit", DIGITS)
        label = None if digit == MIXED else model.null_class if digit == ANY else int(digit)
        images, codes, nll = sample_digits(model, seed, count, label, temperature, top_k)
        first = code_grid(images[0], codes[0], SCALE // 2)
        picture = side_by_side([grid(images, scale=2), first])
        info = tr(
            "{count} digits written by the prior one code at a time (49 tokens each), seed {seed}, temperature "
            "{temperature:g}, top-k {top_k}. The prior's own surprise: {nll:.2f} nats per code on average. Right: the "
            "first sample's code grid.",
            count=count,
            seed=seed,
            temperature=temperature,
            top_k=top_k or tr("off"),
            nll=float(nll.mean()),
        )
        alt = judge_description(self.registry, tr("{count} VQ-VAE samples", count=count), images)
        return described(picture_file(picture), alt), format_codes(codes[0]), notices.markdown() + info

    def model_info(self, name):
        model = self._model(name)
        metrics = self.registry.entry(name).metrics
        text = tr(
            "**{name}**: each digit becomes a {grid}x{grid} grid of codes from a codebook of {size} vectors of "
            "{dim} numbers; a GPT of {layers} layers over the 49 codes writes new digits.",
            name=name,
            grid=GRID,
            size=model.config.codebook_size,
            dim=model.config.code_dim,
            layers=model.config.prior_layers,
        )
        if "reconstruction_mse" in metrics:
            text += " " + tr(
                "Held-out: reconstruction error {mse:.4f} per pixel ({nats:.1f} nats per image); prior {prior:.2f} "
                "nats per code; samples read as the digit asked for {accuracy:.1%}.",
                mse=metrics["reconstruction_mse"],
                nats=metrics.get("reconstruction_nats", float("nan")),
                prior=metrics.get("prior_nats_per_code", float("nan")),
                accuracy=metrics.get("class_accuracy", float("nan")),
            )
        return text


def build_section(demo: gr.Blocks, registry: Registry) -> gr.Dropdown:
    """The VQ-VAE accordion inside the VAE tab; returns its model picker."""
    tab = VQTab(registry)
    names = registry.names("vqvae")
    raw = {"preprocess": False, **IMAGES}
    with gr.Accordion(T("VQ-VAE: a digit as a grid of tokens"), open=False, elem_id="vq-section"):
        gr.Markdown(T("vq.intro"), latex_delimiters=LATEX)
        with gr.Row():
            model = gr.Dropdown(names, value=names[0] if names else None, label=T("VQ-VAE model"))
            model_info = gr.Markdown()
        with gr.Row():
            index = gr.Number(3, label=T("Held-out digit # (0-999)"), precision=0, minimum=0, maximum=999)
            encode = gr.Button(T("Encode this digit"), variant="primary")
        with gr.Row():
            original = gr.Image(label=T("Input"), type="numpy", format="png", interactive=False, height=240)
            codes_picture = gr.Image(
                label=T("Its codes, over the reconstruction (click a cell)"),
                type="numpy",
                format="png",
                interactive=False,
                height=240,
                elem_id="vq-codes",
            )
            codes_text = gr.Textbox(label=T("The code grid (7 rows of 7)"), lines=7, elem_id="vq-code-text")
        with gr.Row():
            row = gr.Number(3, label=T("Row"), precision=0, minimum=0, maximum=GRID - 1)
            column = gr.Number(3, label=T("Column"), precision=0, minimum=0, maximum=GRID - 1)
            code = gr.Number(0, label=T("New code"), precision=0, minimum=0)
            put = gr.Button(T("Put this code in the cell"))
            decode = gr.Button(T("Decode the grid as written"))
        vq_info = gr.Markdown(elem_id="vq-info")
        usage_plot = gr.BarPlot(x="code", y="uses", color="series", label=T("Codebook usage"), height=200)
        usage_text = gr.Markdown(elem_id="vq-usage")
        with gr.Row():
            seed = gr.Number(0, label=T("Seed"), precision=0, minimum=0, maximum=MAX_SEED)
            count = gr.Slider(1, MAX_SAMPLES, 16, step=1, label=T("Samples"))
            digit = gr.Dropdown([(T(d), d) for d in DIGITS[:2]] + DIGITS[2:], value=MIXED, label=T("Digit"))
            temperature = gr.Slider(0.1, 2.0, 1.0, step=0.05, label=T("Temperature"))
            top_k = gr.Slider(0, 512, 0, step=1, label=T("Top-k (0: every code)"))
        sample = gr.Button(T("Write new digits with the prior"), variant="primary")
        samples = gr.Image(label=T("Samples from the prior"), type="numpy", format="png", interactive=False)
        sample_info = gr.Markdown(elem_id="vq-sample-info")

    model.change(friendly(tab.model_info), model, model_info, api_name="vq_model_info", preprocess=False)
    demo.load(with_session(lambda: gr.update(choices=registry.names("vqvae"))), None, model, api_visibility="private")
    encoded = gr.on(
        [encode.click, index.submit],
        friendly(tab.encode),
        [model, index],
        [original, codes_picture, codes_text, vq_info],
        api_name="vq_encode",
        **raw,
    )
    then_describe(encoded, original, codes_picture)
    put_done = put.click(
        friendly(tab.edit), [model, codes_text, row, column, code], [codes_picture, codes_text, vq_info],
        api_name="vq_edit", **raw,
    )  # fmt: skip
    then_describe(put_done, codes_picture)
    decoded = decode.click(
        friendly(tab.decode), [model, codes_text], [codes_picture, codes_text, vq_info], api_name="vq_decode", **raw
    )
    then_describe(decoded, codes_picture)
    codes_picture.select(tab.pick, None, [row, column], api_visibility="private", queue=False)
    model.change(friendly(tab.usage), model, [usage_plot, usage_text], api_name="vq_usage", **raw)
    sampled = sample.click(
        friendly(tab.sample), [model, seed, count, digit, temperature, top_k], [samples, codes_text, sample_info],
        api_name="vq_sample", **raw,
    )  # fmt: skip
    then_describe(sampled, samples)
    first = demo.load(
        friendly(tab.model_info, kind="page"), model, model_info, api_visibility="private", preprocess=False
    ).then(friendly(tab.usage, kind="page"), model, [usage_plot, usage_text], api_visibility="private", **raw)
    first.then(
        friendly(tab.encode, kind="page"), [model, index], [original, codes_picture, codes_text, vq_info],
        api_visibility="private", **raw,
    )  # fmt: skip
    plot_titles(demo, usage_plot, "code", "uses", "series")
    return model
