"""The Training tab: train a GAN, a VAE or a char-GPT live and use the result in the other tabs."""

import os
import secrets
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import gradio as gr
import pandas as pd

from genmodels.checkpoints import recover_interrupted_saves
from genmodels.data import DatasetUnavailable, load_shakespeare
from genmodels.diagnose import ENTROPY_KEY, Point, diagnose
from genmodels.imaging import grid
from genmodels.jobs import FAILED, FINISHED, QUEUED, RUNNING, STOPPED, JobManager, ProcessTrainingJob, TrainingJob
from genmodels.metrics import classify, diversity
from genmodels.ownership import RunAccessError, RunOwners, current_session, publish_all
from genmodels.registry import Registry
from genmodels.text_models import TextModels
from genmodels.trainers import GAN_LOSSES, GANTrainer, Trainer
from genmodels.training_runs import (
    MAX_LEARNING_RATE,
    MAX_STEPS,
    MAX_TEXT_CHARACTERS,
    STATES_DIR,
    TEXT_FAMILIES,
    RunSpec,
    quality_every,
    starting_step,
)

from .common import (
    Notices,
    UserError,
    choice,
    clean_text,
    described,
    flag,
    friendly,
    integer,
    judge_description,
    number,
    picture_file,
    register,
    then_describe,
    with_session,
    within_lesson,
)
from .i18n import T, current_language, tr, translate_message
from .learn import LATEX, learn_panel, prediction_index, verdict
from .locales import ZH

FAMILIES = {
    "GAN (MNIST digits)": "gan",
    "VAE (MNIST digits)": "vae",
    "char-GPT (text)": "chargpt",
    "Diffusion (MNIST digits)": "diffusion",
    "VQ-VAE (MNIST digits)": "vqvae",
    "LoRA fine-tune of SmolLM2 (text)": "lora",
}
# Settings that change with the family picked: (steps, batch, learning rate, context). A LoRA run fine-tunes a
# 135 M-parameter model: a few sequences of 128 tokens per step and a larger learning rate than full training.
FAMILY_SETTINGS = {"lora": (100, 4, 1e-3, 128)}
PAGE_SETTINGS = (300, 64, 2e-4, 64)
TEXTS = ["Tiny Shakespeare", "text pasted below", "uploaded text file"]
MAX_UPLOAD_BYTES = 2 * 2**20
REFRESH_SECONDS = 0.5
SETTINGS_COUNT = (
    15  # family, name, steps, seed, batch, lr, lr_d, loss, conditional, latent, beta, layers, heads, width, context
)
# Explicit types: an empty first frame must not make the plot treat steps and values as categories.
LOSS_TYPES = {"step": "int64", "loss": "float64", "series": "object"}
QUALITY_COLUMNS = ["step", "value", "series"]
QUALITY_TYPES = {"step": "int64", "value": "float64", "series": "object"}
MAX_JOBS = int(os.environ.get("GENLAB_MAX_TRAINING_JOBS", "1"))
HIDDEN_QUALITY = {"most common digit", "class accuracy"}  # on the card and for the diagnosis, not a curve
SETTING_NAMES = ("family", "steps", "seed", "batch", "lr", "lr_d", "loss", "conditional", "latent", "beta", "layers",
                 "heads", "width", "context", "source", "pasted")  # fmt: skip
DEFAULTS = {"family": "GAN (MNIST digits)", "steps": 300, "seed": 0, "batch": 64, "lr": 2e-4, "lr_d": 2e-4,
            "loss": "hinge", "conditional": False, "latent": 64, "beta": 1.0, "layers": 2, "heads": 4, "width": 64,
            "context": 64, "source": "Tiny Shakespeare", "pasted": ""}  # fmt: skip
FAILURES = ("mode collapse", "posterior collapse", "divergence", "overfitting")
# One-click runs that break in a way to recognise (issue 12, item 4): each within about two minutes on 2 CPU cores.
# The diagnosis each must produce is checked on the real runs in tests/integration/test_break_it.py.
# The third part holds settings the tab has no control for; they stay with the run name break_it returns.
BREAK_IT = {
    "collapse": ("mode collapse", {"family": "GAN (MNIST digits)", "steps": 120, "batch": 32, "lr": 3e-3,
                                   "lr_d": 1e-5, "loss": "nonsaturating"}, {"init_from": "gan-mnist"}),
    "posterior": ("posterior collapse", {"family": "VAE (MNIST digits)", "steps": 150, "lr": 1e-3, "latent": 16,
                                         "beta": 20.0}, {}),
    "divergence": ("divergence", {"family": "VAE (MNIST digits)", "steps": 300, "lr": 5.0, "latent": 16}, {}),
    "overfit": ("overfitting", {"family": "char-GPT (text)", "steps": 150, "lr": 3e-3, "width": 128,
                                "source": "text pasted below", "pasted": "tiny"}, {}),
}  # fmt: skip
OVERFIT_CHARACTERS = 3_000  # the first 3,000 characters of Tiny Shakespeare: too little text for this model


def curve_name(series: str) -> str:
    """A loss or quality curve's name in the reader's language (the trainers name them in English)."""
    key = f"training.curve.{series}"
    return tr(key) if key in ZH else series


class TrainingTab:
    def __init__(self, registry: Registry, text_models: TextModels, manager: JobManager):
        self.registry, self.text_models, self.manager = registry, text_models, manager
        self.owners = RunOwners()
        self._active: set[str] = set()  # runs training or waiting now: never evicted
        self._presets: dict[str, dict] = {}  # run name -> break-it settings the tab has no control for
        self._active_lock = threading.Lock()

    def default_name(self, family: str = "GAN (MNIST digits)") -> str:
        """A run name nobody has used: the family and six random hex digits."""
        prefixes = {
            "gan": "my-gan",
            "vae": "my-vae",
            "chargpt": "my-gpt",
            "diffusion": "my-dm",
            "vqvae": "my-vq",
            "lora": "my-lora",
        }
        prefix = prefixes.get(FAMILIES.get(family, "gan"), "my-run")
        while True:
            name = f"{prefix}-{secrets.token_hex(3)}"
            if not self.owners.exists(name):
                return name

    def my_runs(self) -> list[str]:
        """The current session's own runs (every run in single-user mode), newest first."""
        session = current_session()
        runs = [name for name in self.owners.runs() if self.owners.may_change(name, session)]
        return sorted(runs, key=self.owners.last_used, reverse=True)

    def _check_access(self, spec: RunSpec, resume: bool, has_state: bool) -> None:
        session = current_session()
        if self.owners.exists(spec.name) and not self.owners.may_change(spec.name, session):
            if resume:
                raise UserError(tr("There is no stopped run of yours called {name} to resume.", name=repr(spec.name)))
            raise UserError(tr("{name} is another student's run: pick another name.", name=repr(spec.name)))
        if resume and not has_state:
            raise UserError(tr("There is no stopped run called {name} to resume.", name=repr(spec.name)))
        if not resume and has_state:
            raise UserError(
                tr(
                    "A run called {name} exists: press Resume to continue it, or pick a new name.",
                    name=repr(spec.name),
                )
            )

    def _text(self, source, pasted, upload, notices: Notices) -> str | None:
        source = choice(source, "Text", TEXTS)
        if source == TEXTS[0]:
            return None
        if source == TEXTS[1]:
            text = clean_text(pasted, "The pasted text", notices, MAX_TEXT_CHARACTERS, keep="start")
            if not text.strip():
                raise UserError(tr("Paste some text to train on first."))
            return text
        path = upload.get("path") if isinstance(upload, dict) else upload
        if not isinstance(path, str) or not Path(path).is_file():
            raise UserError(tr("Upload a text file first."))
        if Path(path).stat().st_size > MAX_UPLOAD_BYTES:
            raise UserError(tr("The file is over {size} MB; upload a shorter text.", size=MAX_UPLOAD_BYTES // 2**20))
        raw = Path(path).read_bytes()
        if b"\x00" in raw[:4096]:
            raise UserError(tr("That file is not plain text (it looks like a binary file); upload a .txt file."))
        text = clean_text(
            raw.decode("utf-8", errors="replace"), "The uploaded text", notices, MAX_TEXT_CHARACTERS, "start"
        )
        if not text.strip():
            raise UserError(tr("The uploaded file has no readable text."))
        return text

    def _spec(
        self, family, name, steps, seed, batch, lr, lr_d, loss, conditional, latent, beta, layers, heads, width, context
    ):
        notices = Notices()
        within_lesson("training.family", family)
        within_lesson("training.steps", steps)
        spec = RunSpec(
            family=FAMILIES[choice(family, "Model family", list(FAMILIES))],
            name=clean_text(name, "The run name", notices, 40).strip().lower() if isinstance(name, str) else "",
            steps=integer(steps, "Steps", 1, MAX_STEPS, notices),
            seed=integer(seed, "Seed", 0, 2**31 - 1, notices),
            batch_size=integer(batch, "Batch size", 2, 256, notices),
            learning_rate=number(lr, "Learning rate", 1e-6, MAX_LEARNING_RATE, notices),
            discriminator_learning_rate=number(lr_d, "Discriminator learning rate", 1e-6, MAX_LEARNING_RATE, notices),
            gan_loss=choice(loss, "GAN loss", list(GAN_LOSSES)),
            conditional=flag(conditional, "Conditional"),
            latent_dim=integer(latent, "Latent size", 1, 256, notices),
            beta=number(beta, "β", 0.0, 20.0, notices),
            layers=integer(layers, "Layers", 1, 6, notices),
            heads=integer(heads, "Heads", 1, 8, notices),
            width=integer(width, "Width", 16, 256, notices),
            context=integer(context, "Context", 8, 256, notices),
        )
        spec.validate()
        return spec, notices

    def start(self, current, *values, resume=False):
        """Start (or resume) a run and stream its curves, previews and status until it ends."""
        if isinstance(current, TrainingJob) and not current.done:
            raise UserError(tr("This page already has a training run going: stop it first."))
        if len(values) != SETTINGS_COUNT + 3:
            raise UserError(
                tr("Expected {expected} settings, got {count}.", expected=SETTINGS_COUNT + 3, count=len(values))
            )
        spec, notices = self._spec(*values[:SETTINGS_COUNT])
        with self._active_lock:
            preset = self._presets.pop(spec.name, None)
        if preset:  # a break-it run: its starting weights (see break_it)
            spec = replace(spec, **preset)
            spec.validate()
        source, pasted, upload = values[SETTINGS_COUNT:]
        recover_interrupted_saves(STATES_DIR)
        has_state = (STATES_DIR / spec.name / "trainer.json").is_file()
        self._check_access(spec, resume, has_state)
        text = self._text(source, pasted, upload, notices) if spec.family in TEXT_FAMILIES else None
        try:
            # Checked here (data, text, a resumed run's configuration) before a process starts; the run itself
            # trains in a process of its own, which builds it from the same request.
            start_step = starting_step(spec, text)
        except DatasetUnavailable as error:
            raise UserError(translate_message(str(error))) from None
        with self._active_lock:
            if spec.name in self._active:
                raise UserError(tr("{name} is training already.", name=repr(spec.name)))
            try:
                self.owners.claim(spec.name, current_session())
            except RunAccessError as error:
                raise UserError(translate_message(str(error).capitalize())) from None
            for name in self.owners.evict(busy=self._active | {spec.name}, room_for=0):
                notices.add(
                    tr(
                        "Removed the oldest run, {name}, to keep this server's runs within their limits.",
                        name=repr(name),
                    )
                )
                self.text_models.forget(name)
            self._active.add(spec.name)
        self.registry.refresh()
        try:
            request = {"spec": asdict(spec), "text": text, "evaluate_every": quality_every(spec.steps)}
            job = self.manager.submit(ProcessTrainingJob(request, start_step, spec.steps))
            yield from self._follow(job, spec, notices)
        finally:
            with self._active_lock:
                self._active.discard(spec.name)

    def resume(self, *args):
        yield from self.start(*args, resume=True)

    def _follow(self, job: TrainingJob, spec: RunSpec, notices: Notices):
        losses, quality, seen, points, meter = [], [], 0, [], None
        preview, sample = None, ""
        try:
            while True:
                updates, status = job.snapshot(seen)
                seen += len(updates)
                for update in updates:
                    points.append(Point(update.step, dict(update.losses), update.quality))
                    losses += [
                        {"step": update.step, "loss": value, "series": key} for key, value in update.losses.items()
                    ]
                    if update.quality:
                        quality += [
                            {"step": update.step, "value": value, "series": key}
                            for key, value in update.quality.items()
                        ]
                    if update.text is not None:
                        sample = update.text
                    if update.preview is not None:  # in [-1, 1], as every trainer's preview
                        what = tr(
                            "{count} samples from fixed noise at step {step}",
                            count=len(update.preview),
                            step=update.step,
                        )
                        alt = judge_description(self.registry, what, update.preview)
                        preview = described(picture_file(grid(update.preview, scale=2)), alt)
                        if spec.family == "gan":
                            meter = self._meter(update.preview)
                yield (
                    job,
                    *self._view(
                        job, status, losses, quality, preview, sample, notices, self._banner(spec, points, meter)
                    ),
                    *self._pickers(None),
                )
                if status.state in (FINISHED, STOPPED, FAILED):  # the snapshot's state: job.done may be newer
                    break
                time.sleep(REFRESH_SECONDS)
            if status.state in (FINISHED, STOPPED):
                self.text_models.forget(spec.name)
                self.registry.refresh()
            yield (
                job,
                *self._view(job, status, losses, quality, preview, sample, notices, self._banner(spec, points, meter)),
                *self._pickers(spec.name),
            )
        finally:
            job.stop()  # a closed page or a cancelled request ends its run (it still saves what it learned)

    def _meter(self, images) -> str | None:
        """The diversity meter of a preview (GAN runs): the judge's class histogram, entropy and Inception score."""
        if "mnist-classifier" not in self.registry.names("classifier"):
            return None
        meter = diversity(classify(self.registry.load("mnist-classifier", "classifier"), images)[0])
        histogram = " ".join(f"{digit}:{share:.0%}" for digit, share in enumerate(meter["histogram"]))
        return tr(
            "Diversity of the samples above: class entropy {entropy:.2f} bits of 3.32 · Inception score {score:.2f} "
            "· the judge reads {histogram}",
            entropy=meter["entropy_bits"],
            score=meter["inception_score"],
            histogram=histogram,
        )

    @staticmethod
    def _banner(spec: RunSpec, points: list[Point], meter: str | None) -> str:
        """The failure the run shows, named with a fix, as soon as the detector sees it; then the diversity meter."""
        found = diagnose(spec.family, points, {"learning_rate": spec.learning_rate, "beta": spec.beta})
        banner = f"🚩 {translate_message(found.message)}\n\n" if found is not None else ""
        return banner + (f"{meter}\n\n" if meter else "")

    def _view(self, job, status, losses, quality, preview, sample, notices, banner=""):
        if status.state == QUEUED:
            text = tr(
                "Waiting for a free trainer: position {position} in the queue.",
                position=status.queue_position or "?",
            )
        elif status.state == RUNNING and status.steps_per_second == 0:
            text = tr("Starting the trainer (loading the data and the model)…")
        elif status.state == RUNNING:
            progress = {"step": status.step, "total": status.total_steps, "rate": status.steps_per_second}
            if status.seconds_left is None:
                text = tr("Step {step} of {total} · {rate:.1f} steps/s", **progress)
            else:
                text = tr(
                    "Step {step} of {total} · {rate:.1f} steps/s · about {seconds:.0f} s left",
                    seconds=status.seconds_left,
                    **progress,
                )
        elif status.state in (FINISHED, STOPPED):
            template = (
                "Finished at step {step}. Saved as **{name}**: pick it in the other tabs."
                if status.state == FINISHED
                else "Stopped at step {step}. Saved as **{name}**: pick it in the other tabs."
            )
            text = tr(template, step=status.step, name=status.result)
            if not publish_all():
                text += tr(" Only you see it until you share it with the class (Your runs, below).")
        else:
            text = translate_message(status.message)
            if status.message.startswith("Divergence:"):
                text = f"🚩 {text}"
        text = banner + text
        quality = [row for row in quality if row["series"] not in HIDDEN_QUALITY]
        frame = pd.DataFrame(losses[-3000:], columns=["step", "loss", "series"]).astype(LOSS_TYPES)
        # The judge's scores (Inception score and class entropy), else the first quality measure, get their own plot;
        # the others (distances, nats, counts) share the second.
        judged = {"Inception score", ENTROPY_KEY} & {row["series"] for row in quality}
        first = judged or ({quality[0]["series"]} if quality else set())
        score = pd.DataFrame([row for row in quality if row["series"] in first], columns=QUALITY_COLUMNS)
        others = pd.DataFrame([row for row in quality if row["series"] not in first], columns=QUALITY_COLUMNS)
        for table in (frame, score, others):  # the curves' names in the reader's language
            table["series"] = table["series"].map(curve_name)
        # An empty first frame would fix a plot's colour scale with no series in it: send nothing until there is data.
        plots = [
            f if len(f) else gr.update() for f in (frame, score.astype(QUALITY_TYPES), others.astype(QUALITY_TYPES))
        ]
        return *plots, preview, sample, notices.markdown() + text

    def break_it(self, key, prediction):
        """Set up one of the runs that break: every setting, a fresh name, and the explanation for its fold.

        The page then starts it as Start would (/train_start with these settings)."""
        notices = Notices()
        key = choice(key, "Failure", list(BREAK_IT), {k: f"exp.training.{k}.title" for k in BREAK_IT})
        failure, settings, extra = BREAK_IT[key]
        options = [f"exp.training.option.{name}" for name in FAILURES]
        prediction = integer(prediction_index(prediction, options), "Your prediction", -1, len(FAILURES) - 1, notices)
        values = {**DEFAULTS, **settings}
        if values["pasted"] == "tiny":
            values["pasted"] = load_shakespeare()[:OVERFIT_CHARACTERS]
        name = f"break-{key}-{secrets.token_hex(3)}"
        if extra:
            with self._active_lock:
                self._presets[name] = extra
                while len(self._presets) > 1000:  # names asked for and never started
                    self._presets.pop(next(iter(self._presets)))
        explanation = (
            f"**{verdict(prediction, options, FAILURES.index(failure))}**\n\n{tr(f'exp.training.{key}.explain')}"
        )
        ordered = [values[setting] for setting in SETTING_NAMES]
        return ordered[0], name, *ordered[1:], notices.markdown() + explanation

    def _pickers(self, selected: str | None):
        if selected is None:
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        return (
            gr.update(choices=self.registry.names("gan")),
            gr.update(choices=self.registry.names("vae")),
            gr.update(choices=self.text_models.names()),
            gr.update(choices=self.registry.names("diffusion")),
            gr.update(choices=self.registry.names("vqvae")),
        )

    def family_changed(self, family):
        """A fresh run name for the family, and its usual steps, batch, learning rate and context."""
        steps, batch, lr, context = FAMILY_SETTINGS.get(FAMILIES.get(family, "gan"), PAGE_SETTINGS)
        return self.default_name(family), steps, batch, lr, context

    def share(self, name, shared):
        """Publish one of your runs to everyone (or take it back)."""
        name, shared = self._own_run(name), flag(shared, "Shared")
        self.owners.publish(name, current_session(), shared)
        self.registry.refresh()
        message = (
            "**{name}** is shared with everyone on this server."
            if shared
            else "**{name}** is private again: only you see it."
        )
        return tr(message, name=name), gr.update(choices=self.my_runs(), value=name)

    def delete(self, name):
        """Delete one of your runs: its model, its resumable state and its record."""
        name = self._own_run(name)
        with self._active_lock:
            if name in self._active:
                raise UserError(tr("{name} is training: stop it first.", name=repr(name)))
            self.owners.delete(name, current_session())
        self.registry.forget(name)
        self.text_models.forget(name)
        self.registry.refresh()
        runs = self.my_runs()
        return tr("Deleted **{name}**.", name=name), gr.update(choices=runs, value=runs[0] if runs else None)

    def describe(self, name):
        """The sharing checkbox follows the run picked in "Your runs"."""
        record = self.owners.record(name) if isinstance(name, str) and name in self.my_runs() else None
        return gr.update(value=bool(record and record.published))

    def _own_run(self, name) -> str:
        if not isinstance(name, str) or not name or name not in self.my_runs():
            raise UserError(tr("There is no run of yours called {name}.", name=repr(str(name)[:40])))
        return name

    @staticmethod
    def _snapshots(current) -> list:
        """The previews a run kept, oldest first: (step, images (N, 1, 28, 28) in [-1, 1])."""
        if not isinstance(current, TrainingJob):
            return []
        updates, _ = current.snapshot()
        return [(update.step, update.preview) for update in updates if update.preview is not None]

    def scrubber(self, current):
        """After a run: the scrubber's range, one position per preview the run kept (hidden when it kept none)."""
        count = len(self._snapshots(current))
        if not isinstance(current, TrainingJob) or not current.done or count < 2:
            return gr.update(visible=False)
        return gr.update(visible=True, minimum=1, maximum=count, value=count, step=1)

    def scrub(self, current, position):
        """Preview number `position` (1 = the first) of this page's last run, and the loss curves marked at its step."""
        snapshots = self._snapshots(current)
        if not snapshots:
            raise UserError(tr("This page has no finished or stopped run with previews to look back through."))
        position = integer(position, "Preview", 1, len(snapshots), Notices())
        step, images = snapshots[position - 1]
        updates, _ = current.snapshot()
        rows = [
            {"step": update.step, "loss": value, "series": curve_name(key)}
            for update in updates
            for key, value in update.losses.items()
        ]
        frame = pd.DataFrame(rows[-3000:], columns=["step", "loss", "series"]).astype(LOSS_TYPES)
        marker = tr("step {step}", step=step)
        if len(frame):  # a vertical mark across the curves at the preview's step
            low, high = float(frame["loss"].min()), float(frame["loss"].max())
            mark = pd.DataFrame([{"step": step, "loss": low, "series": marker}, {"step": step, "loss": high,
                                 "series": marker}]).astype(LOSS_TYPES)  # fmt: skip
            frame = pd.concat([frame, mark], ignore_index=True)
        what = tr("{count} samples from fixed noise at step {step}", count=len(images), step=step)
        picture = described(picture_file(grid(images, scale=2)), judge_description(self.registry, what, images))
        info = tr("Preview {position} of {total}: step {step}.", position=position, total=len(snapshots), step=step)
        return picture, frame, info

    def page_load(self):
        """A fresh name for this page's first run, the runs this session owns, and the plots' axes in its language."""
        runs = self.my_runs()
        axes = [gr.update()] * 3  # in English the plots name their axes by their columns: step, loss, value
        if current_language() != "en":
            step, loss, value = tr("training.axis.step"), tr("training.axis.loss"), tr("training.axis.value")
            axes = [gr.update(x_title=step, y_title=loss), *[gr.update(x_title=step, y_title=value)] * 2]
        return self.default_name(), gr.update(choices=runs, value=runs[0] if runs else None), *axes

    @staticmethod
    def stop(current):
        """Stop this page's run after its current step; it saves what it has learned."""
        if isinstance(current, TrainingJob) and not current.done:
            current.stop()
            return tr("Stopping after the current step; saving…")
        return tr("Nothing is training.")


def build(demo: gr.Blocks, registry: Registry, text_models: TextModels, pickers: tuple) -> None:
    """The Training tab; `pickers`: the GAN, VAE, Text, Diffusion and VQ-VAE model dropdowns, refreshed after a run."""
    tab = TrainingTab(registry, text_models, JobManager(MAX_JOBS))
    with gr.Tab(T("Training"), id="Training") as tab_block:
        gr.Markdown(T("training.intro"))  # names MAX_JOBS, as demos/locales/training.py reads it
        job = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                family = gr.Radio(
                    [(T(label), label) for label in FAMILIES], value="GAN (MNIST digits)", label=T("Model family")
                )
                name = gr.Textbox(
                    "my-first-gan", label=T("Run name (lowercase letters, digits, dashes)"), elem_id="train-name"
                )
                steps = gr.Slider(10, MAX_STEPS, 300, step=10, label=T("Steps"), elem_id="train-steps")
                with gr.Row():
                    seed = gr.Number(0, label=T("Seed"), precision=0, minimum=0)
                    batch = gr.Slider(2, 256, 64, step=2, label=T("Batch size"), elem_id="train-batch")
                lr = gr.Number(2e-4, label=T("Learning rate"))
                with gr.Accordion(T("GAN"), open=True):
                    loss = gr.Dropdown([(T(option), option) for option in GAN_LOSSES], value="hinge", label=T("Loss"))
                    lr_d = gr.Number(2e-4, label=T("Discriminator learning rate"))
                    conditional = gr.Checkbox(False, label=T("Class-conditional"))
                with gr.Accordion(T("GAN and VAE"), open=False):
                    latent = gr.Slider(2, 128, 64, step=1, label=T("Latent size"))
                    beta = gr.Slider(0.0, 20.0, 1.0, step=0.1, label=T("VAE β"))
                with gr.Accordion(T("char-GPT and LoRA"), open=False):
                    with gr.Row():
                        layers = gr.Slider(1, 6, 2, step=1, label=T("Layers"))
                        heads = gr.Slider(1, 8, 4, step=1, label=T("Heads"))
                    with gr.Row():
                        width = gr.Slider(16, 256, 64, step=16, label=T("Width"))
                        context = gr.Slider(8, 256, 64, step=8, label=T("Context (characters; LoRA: tokens)"))
                    source = gr.Radio([(T(text), text) for text in TEXTS], value=TEXTS[0], label=T("Text"))
                    pasted = gr.Textbox(label=T("Text to train on"), lines=4, max_length=MAX_TEXT_CHARACTERS)
                    upload = gr.File(label=T(f"Text file (up to {MAX_UPLOAD_BYTES // 2**20} MB)"), file_types=[".txt"])
                with gr.Row():
                    start = gr.Button(T("Start"), variant="primary", elem_id="train-start")
                    stop = gr.Button(T("Stop"), variant="stop")
                    resume = gr.Button(T("Resume"))
                with gr.Accordion(T("Your runs"), open=False):
                    mine = gr.Dropdown([], label=T("Your saved runs"), elem_id="train-mine", allow_custom_value=True)
                    shared = gr.Checkbox(False, label=T("Shared with everyone on this server"))
                    with gr.Row():
                        share = gr.Button(T("Apply sharing"))
                        delete = gr.Button(T("Delete this run"), variant="stop")
                    mine_status = gr.Markdown()
            with gr.Column(scale=2):
                status = gr.Markdown(elem_id="train-status")
                curves = gr.LinePlot(
                    x="step", y="loss", color="series", label=T("Losses"), height=260, elem_id="train-losses"
                )
                with gr.Row():
                    quality_plot = gr.LinePlot(x="step", y="value", color="series", label=T("Quality"), height=220)
                    distance_plot = gr.LinePlot(
                        x="step", y="value", color="series", label=T("Quality: distances and nats"), height=220
                    )
                preview = gr.Image(label=T("Samples from fixed noise"), type="numpy", format="png", interactive=False)
                scrubber = gr.Slider(
                    1, 2, 2, step=1, label=T("Look back: the preview at an earlier step"), visible=False,
                    elem_id="train-scrubber",
                )  # fmt: skip
                scrub_info = gr.Markdown(elem_id="train-scrub-info")
                sample = gr.Textbox(label=T("Text sample"), lines=5, interactive=False)

        with gr.Accordion(T("Break it: four failures to recognise"), open=False, elem_id="break-it") as break_box:
            breaking = gr.Dropdown(
                [(T(f"exp.training.{key}.title"), key) for key in BREAK_IT], value="collapse", label=T("Run")
            )
            break_question = gr.Markdown(T("exp.training.collapse.question"))
            break_prediction = gr.Radio(
                [(T(f"exp.training.option.{name}"), index) for index, name in enumerate(FAILURES)],
                label=T("Your prediction (or skip it)"),
            )
            break_start = gr.Button(T("Start this run"), variant="primary", elem_id="break-start")
            with gr.Accordion(T("What happened, and why"), open=False) as break_fold:
                break_explanation = gr.Markdown(latex_delimiters=LATEX)
        learn_panel(
            "training",
            [
                (GANTrainer._d_loss, "The discriminator's loss for each GAN loss the Training tab offers."),
                (GANTrainer._g_loss, "The generator's loss for each GAN loss."),
                (GANTrainer.train_step, "One GAN training step: a discriminator update, then a generator update, then "
                                       "the moving average of the generator."),
                (Trainer.run, "The loop every trainer shares; a loss that becomes NaN, infinite or explodes "
                              "stops the run here."),
            ],
        )  # fmt: skip

        register(demo, {"tab.Training": tab_block, "training.family": family, "training.steps": steps,
                        "experiment.training": breaking, "experiment_box.training": break_box})  # fmt: skip
        inputs = [
            job,
            family,
            name,
            steps,
            seed,
            batch,
            lr,
            lr_d,
            loss,
            conditional,
            latent,
            beta,
            layers,
            heads,
            width,
            context,
            source,
            pasted,
            upload,
        ]
        outputs = [job, curves, quality_plot, distance_plot, preview, sample, status, *pickers]
        # One trainer slot is shared by everyone; the queue above gives positions, the event itself is not limited.
        run_options = {"concurrency_limit": None, "show_progress": "hidden", "preprocess": False}
        started = start.click(friendly(tab.start), inputs, outputs, api_name="train_start", **run_options)
        resumed = resume.click(friendly(tab.resume), inputs, outputs, api_name="train_resume", **run_options)
        breaking.change(
            lambda key: (
                tr(f"exp.training.{key}.question") if key in BREAK_IT else "",
                None,
                "",
                gr.update(open=False),
            ),
            breaking,
            [break_question, break_prediction, break_explanation, break_fold],
            api_visibility="private",
        )
        settings = [family, name, steps, seed, batch, lr, lr_d, loss, conditional, latent, beta, layers, heads, width,
                    context, source, pasted]  # fmt: skip
        broken = break_start.click(
            friendly(tab.break_it),
            [breaking, break_prediction],
            [*settings, break_explanation],
            api_name="train_break_it",
            preprocess=False,
        ).success(friendly(tab.start), inputs, outputs, api_visibility="private", **run_options)
        for event in (started, resumed, broken):
            then_describe(event, preview)
            # a finished or stopped run keeps its previews: the scrubber moves through them
            event.then(with_session(tab.scrubber), job, scrubber, api_visibility="private", queue=False)
        scrubbed = scrubber.release(
            friendly(tab.scrub),
            [job, scrubber],
            [preview, curves, scrub_info],
            api_name="train_scrub",
            preprocess=False,
        )
        then_describe(scrubbed, preview)
        stop.click(with_session(tab.stop), job, status, api_name="train_stop", preprocess=False)
        share.click(friendly(tab.share), [mine, shared], [mine_status, mine], api_name="train_share", preprocess=False)
        delete.click(friendly(tab.delete), mine, [mine_status, mine], api_name="train_delete", preprocess=False)
        page = [name, mine, curves, quality_plot, distance_plot]
        demo.load(with_session(tab.page_load), None, page, api_visibility="private")
        mine.change(with_session(tab.describe), mine, shared, api_visibility="private")
        family.change(tab.family_changed, family, [name, steps, batch, lr, context], api_visibility="private")
