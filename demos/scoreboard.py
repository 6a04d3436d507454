"""The Scoreboard tab: every image model (GANs, VAEs, VQ-VAE, diffusion) judged the same way, in one table, beside
the floor and ceiling of real digits; the visitor's own saved Training-tab runs can join it."""

import gradio as gr
import pandas as pd

from genmodels.data import DatasetUnavailable, held_out_digits, to_signed
from genmodels.evaluate import (
    DIFFUSION_MORE_STEPS,
    DIFFUSION_STEPS,
    IMAGE_FAMILIES,
    evaluate_model,
    more_steps_name,
    scoreboard,
    shipped_evaluation,
)
from genmodels.registry import Registry

from .common import friendly, with_session
from .i18n import T, tr

RUN_SEEDS = (2026, 2027)  # a run is scored with two seeds (1,000 images), the shipped models with five
MAX_RUNS = 6
SCORING = {"concurrency_id": "scoreboard", "concurrency_limit": 1}  # minutes for a diffusion run: one at a time
COLUMNS = (
    "model",
    "family",
    "Fréchet distance (500 images)",
    "± spread over seeds",
    "floor: real against real",
    "Inception score (500)",
    "share of real digits' score",
    "class accuracy",
    "class entropy (bits of 3.32)",
    "ms per image",
)


FAMILY_NAMES = {"gan": "GAN", "vae": "VAE", "vqvae": "VQ-VAE", "diffusion": "diffusion model"}


def _model_name(name: str) -> str:
    """A row's model, in the reader's language: a diffusion model's second row names its sampling steps."""
    suffix = more_steps_name("")
    if name.endswith(suffix):
        return tr("{name}, {steps} sampling steps", name=name[: -len(suffix)], steps=DIFFUSION_MORE_STEPS)
    return name


def _frame(rows: list[dict], owner: str | None = None) -> pd.DataFrame:
    values = []
    for row in rows:
        values.append(
            [
                _model_name(row["model"]) + (f" ({owner})" if owner else ""),
                tr(FAMILY_NAMES.get(row["family"], row["family"])),
                row["frechet_distance"],
                row["spread"],
                row["floor"],
                row["inception_score"],
                f"{row['share_of_real']:.0%}" if row["share_of_real"] is not None else "",
                f"{row['class_accuracy']:.1%}" if row["class_accuracy"] is not None else tr("unconditional"),
                row["entropy_bits"],
                row["ms_per_image"],
            ]
        )
    return pd.DataFrame(values, columns=[tr(column) for column in COLUMNS])


class ScoreboardTab:
    def __init__(self, registry: Registry):
        self.registry = registry

    def table(self):
        """The shipped image models, from checkpoints/evaluation.json (`python -m genmodels.evaluate`)."""
        evaluation = shipped_evaluation()
        rows = scoreboard(evaluation)
        if not rows:
            return _frame([]), tr("No scoreboard has been computed here: run `python -m genmodels.evaluate`.")
        real = evaluation["real digits"]
        note = tr(
            "{count} models, each with {samples:,} samples judged by GenLab's digit classifier against the 1,000 "
            "held-out digits it never trained on. Floor: two halves of the real held-out digits are {floor:.1f} "
            "apart with 500 images each, the closest any generator can be expected to come. Ceiling: real digits "
            "score {real:.2f} on the Inception score with 500 images. Milliseconds per image on the machine that "
            "computed the table.",
            count=len(rows),
            samples=rows[0]["samples"],
            floor=real["frechet_floor"],
            real=real["inception_score_real_500"],
        )
        more = [row for row in rows if row["model"].endswith(more_steps_name(""))]
        if more:
            note += " " + tr(
                "Each diffusion model is listed twice: with the Diffusion tab's default {few} sampling steps, and "
                "with {many}, which cost more network passes per image: compare what they buy.",
                few=DIFFUSION_STEPS,
                many=DIFFUSION_MORE_STEPS,
            )
        return _frame(rows), note

    def runs(self):
        """Your saved Training-tab runs of image models, scored like the shipped ones (two seeds, 1,000 images)."""
        from genmodels.evaluate import real_floor

        names = [
            name
            for name in self.registry.names()
            if self.registry.entry(name).owners is not None and self.registry.entry(name).family in IMAGE_FAMILIES
        ]
        if not names:
            return _frame([]), tr("You have no saved image-model runs yet: train one in the Training tab.")
        if "mnist-classifier" not in self.registry.names("classifier"):
            return _frame([]), tr("The scoreboard needs the judge.")
        try:
            held_out = to_signed(held_out_digits().images)
        except DatasetUnavailable:
            return _frame([]), tr("The MNIST digits are not available on this server.")
        judge = self.registry.load("mnist-classifier", "classifier")
        evaluation = {"real digits": real_floor(judge, held_out)}
        for name in names[:MAX_RUNS]:
            entry = self.registry.entry(name)
            model = self.registry.load(name)
            guide = self.registry.guide(name) if entry.family == "diffusion" else None
            evaluation[name] = evaluate_model(entry.family, model, judge, held_out, seeds=RUN_SEEDS, guide=guide)
        note = tr("{count} of your runs, each with 1,000 samples (two seeds).", count=min(len(names), MAX_RUNS))
        if len(names) > MAX_RUNS:
            note += " " + tr("Only the first {limit} are scored.", limit=MAX_RUNS)
        return _frame(scoreboard(evaluation), tr("your run")), note


def build(demo: gr.Blocks, registry: Registry) -> None:
    tab = ScoreboardTab(registry)
    with gr.Tab(T("Scoreboard"), id="Scoreboard"):
        gr.Markdown(T("scoreboard.intro"))
        table = gr.Dataframe(interactive=False, wrap=True, elem_id="scoreboard-table")
        note = gr.Markdown(elem_id="scoreboard-note")
        score_runs = gr.Button(T("Score my saved runs"), variant="primary")
        runs_table = gr.Dataframe(interactive=False, wrap=True, elem_id="scoreboard-runs")
        runs_note = gr.Markdown()
        demo.load(with_session(tab.table), None, [table, note], api_visibility="private", queue=False)
        gr.Button(T("Refresh"), size="sm").click(friendly(tab.table), None, [table, note], api_name="scoreboard")
        score_runs.click(friendly(tab.runs), None, [runs_table, runs_note], api_name="scoreboard_runs", **SCORING)
