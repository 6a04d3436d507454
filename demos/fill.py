"""The Text tab's fill-the-blanks section (issue 16): a masked model (both sides of each blank) beside the
char-GPT (the left side only) and SmolLM2 scoring each candidate in the whole passage."""

import gradio as gr
import pandas as pd

from genmodels.fill import MAX_BLANKS, MAX_CHARACTERS, SCORED_BLANKS, fill_blanks, shown
from genmodels.maskedlm import MaskedCharLM, span_mask
from genmodels.registry import UnknownModel
from genmodels.text_models import SMOLLM, TextModels
from genmodels.trainers import MaskedLMTrainer

from .common import TEXT, Notices, UserError, clean_text, flag, friendly, integer, plot_titles, with_session
from .experiments import fill_experiments
from .i18n import T, tr, translate_message
from .learn import LATEX, ExperimentPanel, learn_panel

GPT = "chargpt-shakespeare"  # the left-to-right model beside the masked one: same characters, same data and split
EXAMPLES = [
    "ROMEO:\nBut, soft! what light through yonder w_ndow breaks?\nIt is the east, and J_liet is the sun.",
    "A man well _nown throughout all Italy.",
    "First Citizen:\nWe are accounted poor citizens.\n\n_ll:\nSpeak, speak.",
    "To be, or not to be, that is the q[MASK]estion.",
]
TABLE_COLUMNS = ["blank", "context", "masked model (both sides)", "char-GPT (left only)", "SmolLM2 (scores)"]


def _candidates(pairs) -> str:
    return "  ".join(f"{shown(c)} {p:.0%}" for c, p in pairs) if pairs else "—"


def _context(text: str, position: int, width: int = 14) -> str:
    left = text[max(0, position - width) : position].replace("\n", "↵")
    right = text[position + 1 : position + 1 + width].replace("\n", "↵")
    return f"…{left}[_]{right}…"


class FillTab:
    def __init__(self, models: TextModels):
        self.models, self.registry = models, models.registry

    def _masked(self, name) -> MaskedCharLM:
        try:
            return self.registry.load(name, "maskedlm")
        except UnknownModel as error:
            raise UserError(tr("Unknown masked model: {error}.", error=translate_message(str(error)))) from None

    def _gpt(self, masked: MaskedCharLM):
        if GPT not in self.registry.names("chargpt"):
            return None
        gpt = self.registry.load(GPT, "chargpt")
        return gpt if gpt.config.vocab == masked.config.vocab else None

    def fill(self, name, text, chart_blank, use_smollm):
        """Every blank's candidates from the three models: a table, one blank's chart, and the filled texts."""
        notices = Notices()
        masked = self._masked(name)
        text = clean_text(text, "The text", notices, 20 * MAX_CHARACTERS)
        chart_blank = integer(chart_blank, "Blank to chart", 1, MAX_BLANKS, notices)
        lm = None
        if flag(use_smollm, "Score with SmolLM2"):
            if self.models.status(SMOLLM).state in ("ready", "absent") and SMOLLM in self.models.names():
                lm = self.models.load(SMOLLM)
            else:
                notices.add(tr("SmolLM2 is not ready yet, so its column is empty; try again in a moment."))
        filled = fill_blanks(masked, self._gpt(masked), lm, text)
        rows = [
            [index + 1, _context(filled.text, blank.position), _candidates(blank.both), _candidates(blank.left),
             _candidates(blank.scored) if blank.scored is not None else "—"]
            for index, blank in enumerate(filled.blanks)
        ]  # fmt: skip
        table = pd.DataFrame(rows, columns=[tr(column) for column in TABLE_COLUMNS])
        chart_blank = min(chart_blank, len(filled.blanks))
        blank = filled.blanks[chart_blank - 1]
        bars = []
        for series, pairs in (
            (tr("masked model (both sides)"), blank.both),
            (tr("char-GPT (left only)"), blank.left),
            (tr("SmolLM2 (scores)"), blank.scored or []),
        ):
            bars += [{"candidate": shown(c), "probability": p, "model": series} for c, p in pairs]
        chart = pd.DataFrame(bars, columns=["candidate", "probability", "model"])
        count = len(filled.blanks)
        summary = tr(
            "{count} blank(s). **Masked model, seeing both sides:** {both}\n\n**char-GPT, seeing only the left "
            "(each blank filled before the next):** {left}",
            count=count,
            both=_quoted(filled.both_text),
            left=_quoted(filled.left_text) if filled.left_text else tr("(no char-GPT with the same characters)"),
        )
        if lm is not None and count > SCORED_BLANKS:
            summary += "\n\n" + tr(
                "SmolLM2 scored the first {scored} blanks (each candidate costs it a pass over the passage).",
                scored=SCORED_BLANKS,
            )
        summary += "\n\n" + tr("The chart: blank {index} of {count}.", index=chart_blank, count=count)
        return table, chart, notices.markdown() + summary

    def model_info(self, name):
        masked = self._masked(name)
        metrics = self.registry.entry(name).metrics
        text = tr(
            "**{name}**: {layers} layers, {width} wide, {parameters:,} parameters, a {block}-character window. It "
            "learned by filling in hidden characters (about {rate:.0%} of each window, in short spans).",
            name=name,
            layers=masked.config.n_layer,
            width=masked.config.n_embd,
            parameters=sum(p.numel() for p in masked.parameters()),
            block=masked.config.block_size,
            rate=masked.config.mask_rate,
        )
        if "validation_single_accuracy" in metrics:
            text += " " + tr(
                "On held-out text it puts the right character first at {single:.1%} of single blanks and {spans:.1%} "
                "of characters hidden in spans.",
                single=metrics["validation_single_accuracy"],
                spans=metrics["validation_masked_accuracy"],
            )
        if "left_only_accuracy_chargpt" in metrics:
            text += " " + tr(
                "On the same single blanks the char-GPT, from the left only, gets {left:.1%}.",
                left=metrics["left_only_accuracy_chargpt"],
            )
        return text


def _quoted(text: str) -> str:
    return "\n\n" + "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def build_section(demo: gr.Blocks, models: TextModels) -> gr.Dropdown:
    """The fill-the-blanks accordion inside the Text tab; returns its masked-model picker."""
    tab = FillTab(models)
    names = models.registry.names("maskedlm")
    with gr.Accordion(T("Fill the blanks: a masked model against a left-to-right one"), open=False,
                      elem_id="fill-section"):  # fmt: skip
        gr.Markdown(T("fill.intro"), latex_delimiters=LATEX)
        with gr.Row():
            model = gr.Dropdown(names, value=names[0] if names else None, label=T("Masked model"))
            model_info = gr.Markdown()
        text = gr.Textbox(
            EXAMPLES[0],
            label=T("Text with blanks (_ or [MASK], one character each)"),
            lines=5,
            max_length=20 * MAX_CHARACTERS,
            elem_id="fill-text",
        )
        gr.Examples(EXAMPLES, text, label=T("Examples"))
        with gr.Row():
            chart_blank = gr.Number(1, label=T("Blank to chart"), precision=0, minimum=1, maximum=MAX_BLANKS)
            use_smollm = gr.Checkbox(True, label=T("Score with SmolLM2"))
            run = gr.Button(T("Fill the blanks"), variant="primary", elem_id="fill-run")
        summary = gr.Markdown(elem_id="fill-summary")
        table = gr.Dataframe(
            headers=[T(column) for column in TABLE_COLUMNS], interactive=False, wrap=True, elem_id="fill-table"
        )
        chart = gr.BarPlot(
            x="candidate", y="probability", color="model", label=T("One blank's candidates"), sort=None, height=260
        )
        learn_panel(
            "fill",
            [
                (span_mask, "How the blanks are drawn while training: spans of a few characters, about 15% of all."),
                (MaskedLMTrainer.train_step, "One training step: hide, corrupt as BERT does, predict the hidden."),
            ],
        )
        experiments = ExperimentPanel("fill", fill_experiments(models), TEXT)
    experiments.wire(demo)
    gr.on(
        [run.click, text.submit],
        friendly(tab.fill),
        [model, text, chart_blank, use_smollm],
        [table, chart, summary],
        api_name="fill_blanks",
        preprocess=False,
        **TEXT,
    )
    model.change(friendly(tab.model_info), model, model_info, api_name="fill_model_info", preprocess=False)
    demo.load(with_session(lambda: gr.update(choices=models.registry.names("maskedlm"))), None, model,
              api_visibility="private")  # fmt: skip
    demo.load(friendly(tab.model_info, kind="page"), model, model_info, api_visibility="private", preprocess=False)
    plot_titles(demo, chart, "candidate", "probability", "model")
    return model
