"""The Text tab's scoring section (issue 16): continue a held-out (or pasted) passage at several temperatures and
score each continuation against the true text with BLEU and chrF, beside the true text's perplexity."""

import functools

import gradio as gr
import pandas as pd

from genmodels.data import DatasetUnavailable, load_shakespeare, split_text
from genmodels.lm import fit_prompt
from genmodels.registry import UnknownModel
from genmodels.sampling import MAX_SEED
from genmodels.text_models import TextModels
from genmodels.textgen import MAX_TEMPERATURE
from genmodels.textscore import (
    MAX_SAMPLES_PER_TEMPERATURE,
    MAX_TEMPERATURES,
    held_out_passages,
    reference_fit,
    scored_samples,
    split_passage,
    tokens_for,
)

from .common import TEXT, Notices, UserError, clean_text, friendly, integer, number, plot_titles, with_session
from .i18n import T, tr, translate_message
from .learn import LATEX

TEMPERATURES = [0.0, 0.3, 0.7, 1.0, 1.5]
DEFAULT_TEMPERATURES = [0.0, 0.7, 1.5]
MAX_PROMPT_CHARACTERS = 4000
MAX_REFERENCE_CHARACTERS = 1500
COLUMNS = ["temperature", "sample", "BLEU", "chrF", "mean log-probability (nats/token)", "continuation"]


@functools.cache
def passages() -> tuple[str, ...]:
    """Tiny Shakespeare's held-out tenth in passages (empty when the text is not on this server)."""
    try:
        return tuple(held_out_passages(split_text(load_shakespeare())[1]))
    except DatasetUnavailable:
        return ()


class ScoringTab:
    def __init__(self, models: TextModels):
        self.models = models

    def passage(self, index):
        """Held-out passage `index` split into a prompt and the true continuation."""
        notices = Notices()
        available = passages()
        if not available:
            raise UserError(tr("Tiny Shakespeare is not on this server: paste a prompt and its true continuation."))
        index = integer(index, "Passage #", 0, len(available) - 1, notices)
        prompt, reference = split_passage(available[index])
        info = tr(
            "Held-out passage {index} of {count} (Tiny Shakespeare's last tenth, never trained on): the first "
            "part is the prompt, the rest is the true continuation.",
            index=index,
            count=len(available),
        )
        return prompt, reference, notices.markdown() + info

    def score(self, name, prompt, reference, temperatures, samples, seed):
        """Continuations at each temperature, scored against the reference; and the reference's own perplexity."""
        notices = Notices()
        try:
            model = self.models.load(name)
        except UnknownModel as error:
            raise UserError(translate_message(str(error))) from None
        prompt = clean_text(prompt, "Prompt", notices, MAX_PROMPT_CHARACTERS)
        reference = clean_text(reference, "True continuation", notices, MAX_REFERENCE_CHARACTERS, keep="start")
        if not prompt.strip():
            raise UserError(tr("Write or pick a prompt first."))
        if not reference.strip():
            raise UserError(tr("Give the true continuation to score against."))
        if not isinstance(temperatures, list) or not temperatures:
            raise UserError(tr("Pick at least one temperature."))
        if len(temperatures) > MAX_TEMPERATURES:
            raise UserError(tr("At most {count} temperatures at once.", count=MAX_TEMPERATURES))
        temperatures = sorted({number(t, "Temperature", 0.0, MAX_TEMPERATURE, notices) for t in temperatures})
        samples = integer(samples, "Samples per temperature", 1, MAX_SAMPLES_PER_TEMPERATURE, notices)
        seed = integer(seed, "Seed", 0, MAX_SEED, notices)
        tokens = tokens_for(model, reference)
        prompt_ids, cut = fit_prompt(model, prompt, tokens)
        if cut:
            notices.add(tr("The prompt was too long for the model: its first {cut} tokens were left out.", cut=cut))
        fit = reference_fit(model, prompt_ids, reference)
        rows = scored_samples(model, prompt_ids, reference, temperatures, samples, seed, tokens)
        table = pd.DataFrame(
            [[f"{r.temperature:g}", r.sample, round(r.bleu.score, 1), round(r.chrf, 1),
              round(r.mean_log_probability, 3), r.text] for r in rows],
            columns=[tr(column) for column in COLUMNS],
        )  # fmt: skip
        chart = pd.DataFrame(
            [{"sample": f"T={r.temperature:g} #{r.sample}", "score": value, "metric": metric}
             for r in rows for metric, value in (("BLEU", r.bleu.score), ("chrF", r.chrf))],
            columns=["sample", "score", "metric"],
        )  # fmt: skip
        best = max(rows, key=lambda r: r.bleu.score)
        summary = tr(
            "**The true continuation under {name}:** {nats:.3f} nats per token, perplexity **{perplexity:.2f}** "
            "({per_char:.3f} nats per character, {tokens} tokens). Each continuation has {new} new tokens, as many "
            "as the true text. Highest BLEU: temperature {best_t:g} ({best_bleu:.1f}). BLEU tokenisation: "
            "{tokenizer}.",
            name=name,
            nats=fit.nats_per_token,
            perplexity=fit.perplexity,
            per_char=fit.nats_per_character,
            tokens=fit.tokens,
            new=tokens,
            best_t=best.temperature,
            best_bleu=best.bleu.score,
            tokenizer=tr("one word per Chinese character (zh)") if best.bleu.tokenizer == "zh" else "13a",
        )
        return table, chart, notices.markdown() + summary


def build_section(demo: gr.Blocks, models: TextModels, model: gr.Dropdown) -> None:
    """The scoring accordion inside the Text tab; `model` is the tab's language-model picker."""
    tab = ScoringTab(models)
    count = len(passages())
    with gr.Accordion(T("Score a continuation: BLEU, chrF and perplexity"), open=False, elem_id="score-section"):
        gr.Markdown(T("score.intro"), latex_delimiters=LATEX)
        with gr.Row():
            index = gr.Number(0, label=T("Passage #"), precision=0, minimum=0, maximum=max(count - 1, 0))
            pick = gr.Button(T("Use this held-out passage"))
        with gr.Row():
            prompt = gr.Textbox(label=T("Prompt"), lines=6, max_length=MAX_PROMPT_CHARACTERS, elem_id="score-prompt")
            reference = gr.Textbox(
                label=T("True continuation"), lines=6, max_length=MAX_REFERENCE_CHARACTERS, elem_id="score-reference"
            )
        passage_info = gr.Markdown()
        with gr.Row():
            temperatures = gr.CheckboxGroup(TEMPERATURES, value=DEFAULT_TEMPERATURES, label=T("Temperatures"))
            samples = gr.Slider(1, MAX_SAMPLES_PER_TEMPERATURE, 2, step=1, label=T("Samples per temperature"))
            seed = gr.Number(0, label=T("Seed"), precision=0, minimum=0, maximum=MAX_SEED)
        run = gr.Button(T("Continue and score"), variant="primary", elem_id="score-run")
        summary = gr.Markdown(elem_id="score-summary")
        table = gr.Dataframe(headers=[T(c) for c in COLUMNS], interactive=False, wrap=True, elem_id="score-table")
        chart = gr.BarPlot(x="sample", y="score", color="metric", label=T("Scores"), sort=None, height=240)
    pick.click(friendly(tab.passage), index, [prompt, reference, passage_info], api_name="score_passage",
               preprocess=False)  # fmt: skip
    run.click(
        friendly(tab.score),
        [model, prompt, reference, temperatures, samples, seed],
        [table, chart, summary],
        api_name="score_continuations",
        preprocess=False,
        **TEXT,
    )
    if count:
        demo.load(with_session(tab.passage), index, [prompt, reference, passage_info], api_visibility="private",
                  preprocess=False)  # fmt: skip
    plot_titles(demo, chart, "sample", "score", "metric")
