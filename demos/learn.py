"""The teaching layer every tab shares (issue 12): a Learn panel (the idea, its formulas, one derivation step by
step, and the code that runs) and one-click experiments that ask for a prediction first.

An experiment sets up a comparison on the shipped models, asks a multiple-choice question (the student may skip
it), runs, shows the result, and keeps its explanation in a closed fold until the student opens it. Each tab's
experiments are one API endpoint too: `/<tab>_experiment` with the experiment's id and the prediction (-1 to skip).
"""

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr
import numpy as np
import pandas as pd

from genmodels.source import source_of, where

from .common import Notices, UserError, choice, friendly, integer, picture_file, plot_titles
from .i18n import T, english, tr
from .locales import ZH

LATEX = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "$", "right": "$", "display": False},
]
BAR_COLUMNS = ["label", "value", "series"]
LINE_COLUMNS = ["x", "value", "series"]


def learn_panel(tab: str, code: list[tuple[Callable, str]]) -> None:
    """The Learn fold of `tab`: locales hold learn.<tab>.idea and learn.<tab>.derivation (Markdown with LaTeX)."""
    with gr.Accordion(T("Learn: the idea, the formulas and the code"), open=False, elem_id=f"learn-{tab}"):
        gr.Markdown(T(f"learn.{tab}.idea"), latex_delimiters=LATEX, elem_classes=["learn-text"])
        with gr.Accordion(T("Derivation, step by step"), open=False):
            gr.Markdown(T(f"learn.{tab}.derivation"), latex_delimiters=LATEX, elem_classes=["learn-text"])
        with gr.Accordion(T("The code that runs"), open=False):
            gr.Markdown(T("These lines are read from GenLab's own source when the page is built: they are what runs."))
            for function, note in code:
                gr.Code(
                    source_of(function),
                    language="python",
                    label=f"{where(function)}",
                    interactive=False,
                    max_lines=30,
                )
                gr.Markdown(T(note))


@dataclass(frozen=True)
class Outcome:
    """What an experiment shows: a picture (RGB uint8), a plot (bar or line), and a result paragraph."""

    result: str
    picture: np.ndarray | None = None
    bars: pd.DataFrame | None = None
    lines: pd.DataFrame | None = None


@dataclass(frozen=True)
class Experiment:
    key: str  # "gan.truncation": locales hold exp.<key>.title, .question, .option1.., .explain
    options: int
    answer: int  # index of the option that matches the outcome (tested: tests/test_experiments.py)
    run: Callable[[], Outcome]
    shows: tuple[str, ...] = ("picture",)  # which of "picture", "bars", "lines" its outcome fills

    def option_keys(self) -> list[str]:
        return [f"exp.{self.key}.option{i + 1}" for i in range(self.options)]


def prediction_index(prediction, options: list[str]):
    """The option index a prediction names: -1 when skipped; a radio's label in either language is taken for its
    index (as for dropdowns, see common.choice)."""
    if prediction is None or prediction == "":
        return -1
    if isinstance(prediction, str):
        for index, key in enumerate(options):
            if prediction in (english(key), ZH.get(key)):
                return index
    return prediction


def verdict(prediction: int, options: list[str], answer: int) -> str:
    """Whether the prediction (an option's index, -1 if skipped) was right, in the request's language."""
    if prediction < 0:
        return tr("You skipped the prediction. The answer: {answer}.", answer=tr(options[answer]))
    if prediction == answer:
        return tr("Your prediction, “{choice}”, was right.", choice=tr(options[prediction]))
    return tr(
        "Your prediction was “{choice}”; what happened: {answer}.",
        choice=tr(options[prediction]),
        answer=tr(options[answer]),
    )


class ExperimentPanel:
    """The experiments fold of one tab: pick, predict (or skip), run, then open the explanation."""

    def __init__(self, tab: str, experiments: list[Experiment], concurrency: dict):
        self.tab, self.experiments, self.concurrency = tab, {e.key: e for e in experiments}, concurrency
        first = experiments[0]
        with gr.Accordion(T("Experiments: predict, run, explain"), open=False, elem_id=f"experiments-{tab}") as box:
            self.box = box
            self.picker = gr.Dropdown(
                [(T(f"exp.{e.key}.title"), e.key) for e in experiments], value=first.key, label=T("Experiment")
            )
            self.question = gr.Markdown(T(f"exp.{first.key}.question"), elem_id=f"experiment-question-{tab}")
            self.prediction = gr.Radio(
                [(T(key), index) for index, key in enumerate(first.option_keys())],
                value=None,
                label=T("Your prediction (or skip it)"),
                elem_id=f"experiment-prediction-{tab}",
            )
            self.run_button = gr.Button(T("Run the experiment"), variant="primary", elem_id=f"experiment-run-{tab}")
            self.result = gr.Markdown(elem_id=f"experiment-result-{tab}")
            self.picture = gr.Image(
                label=T("Result"),
                type="filepath",
                interactive=False,
                visible="picture" in first.shows,
                elem_id=f"experiment-picture-{tab}",
            )
            self.bars = gr.BarPlot(
                x="label", y="value", color="series", label=T("Result"), visible="bars" in first.shows, height=220
            )
            self.lines = gr.LinePlot(
                x="x", y="value", color="series", label=T("Result"), visible="lines" in first.shows, height=220
            )
            with gr.Accordion(T("What happened, and why"), open=False, elem_id=f"experiment-reveal-{tab}") as fold:
                self.fold = fold
                self.explanation = gr.Markdown(latex_delimiters=LATEX, elem_id=f"experiment-explanation-{tab}")

    def question_for(self, key):
        """The question and options of the experiment picked (in the request's language)."""
        if isinstance(key, str) and key not in self.experiments:
            key = choice(key, "Experiment", list(self.experiments), {k: f"exp.{k}.title" for k in self.experiments})
        experiment = self.experiments.get(key) if isinstance(key, str) else None
        if experiment is None:
            raise UserError(tr("Unknown experiment: {name}.", name=str(key)[:60]))
        choices = [(tr(option), index) for index, option in enumerate(experiment.option_keys())]
        shown = [gr.update(value=None, visible=kind in experiment.shows) for kind in ("picture", "bars", "lines")]
        question = tr(f"exp.{key}.question")
        return question, gr.update(choices=choices, value=None), "", gr.update(open=False), "", *shown

    def run(self, key, prediction):
        """Run one experiment: (picture file, bar plot table, line plot table, result, explanation with the verdict).

        The API gets these values as they are; the page shows the outputs the experiment fills (question_for)."""
        notices = Notices()
        key = choice(key, "Experiment", list(self.experiments), {k: f"exp.{k}.title" for k in self.experiments})
        experiment = self.experiments[key]
        prediction = prediction_index(prediction, experiment.option_keys())
        prediction = integer(prediction, "Your prediction", -1, experiment.options - 1, notices)
        outcome = experiment.run()
        said = verdict(prediction, experiment.option_keys(), experiment.answer)
        picture = picture_file(outcome.picture) if outcome.picture is not None else None
        bars = outcome.bars if outcome.bars is not None else pd.DataFrame(columns=BAR_COLUMNS)
        lines = outcome.lines if outcome.lines is not None else pd.DataFrame(columns=LINE_COLUMNS)
        explanation = f"**{said}**\n\n{tr(f'exp.{key}.explain')}"
        return picture, bars, lines, notices.markdown() + outcome.result, explanation

    def wire(self, demo: gr.Blocks) -> None:
        plot_titles(demo, self.bars, "label", "value", "series")
        plot_titles(demo, self.lines, "x", "value", "series")
        api = f"{self.tab}_experiment"
        self.picker.change(
            friendly(self.question_for),
            self.picker,
            [
                self.question,
                self.prediction,
                self.result,
                self.fold,
                self.explanation,
                self.picture,
                self.bars,
                self.lines,
            ],
            api_visibility="private",
            preprocess=False,
        )

        ran = self.run_button.click(
            friendly(self.run),
            [self.picker, self.prediction],
            [self.picture, self.bars, self.lines, self.result, self.explanation],
            api_name=api,
            preprocess=False,
            **self.concurrency,
        )
        # The explanation waits in its closed fold until the student opens it.
        ran.then(lambda: gr.update(open=False), None, self.fold, api_visibility="private", queue=False)
