"""The Diffusion tab: digits denoised from pure noise, step by step, with the trajectory and the forward process."""

import collections
import secrets
import threading

import gradio as gr
import torch

from genmodels.data import to_signed
from genmodels.diffusion import (
    DEFAULT_SAMPLER,
    GUIDE_SUFFIX,
    DiffusionModel,
    default_guidance,
    diffusion_loss,
    sample,
)
from genmodels.diffusion_pipeline import (
    MAX_AUTOGUIDANCE,
    MAX_FRAMES,
    MAX_GRID,
    MAX_GUIDANCE,
    MAX_STEPS,
    denoise,
    forward_process,
)
from genmodels.evaluate import DIFFUSION_STEPS, more_steps_name, shipped_evaluation
from genmodels.imaging import grid, side_by_side, stacked, write_gif
from genmodels.registry import Registry, UnknownModel
from genmodels.sampling import MAX_SEED

from .common import (
    IMAGES,
    Notices,
    UserError,
    choice,
    described,
    diversity_meter,
    friendly,
    held_out_digit,
    integer,
    judge_description,
    number,
    output_path,
    picture_file,
    plot_titles,
    register,
    then_describe,
    with_session,
    within_lesson,
)
from .experiments import diffusion_experiments
from .i18n import T, tr, translate_message
from .learn import ExperimentPanel, learn_panel

MIXED = "0-9 in turn"
UNCONDITIONAL = "any digit (no class)"
DIGITS = [MIXED, UNCONDITIONAL] + [str(digit) for digit in range(10)]
DIGIT_CHOICES = [(T(MIXED), MIXED), (T(UNCONDITIONAL), UNCONDITIONAL), *DIGITS[2:]]
SAMPLERS = {"DDIM (deterministic)": "ddim", "DDPM (stochastic)": "ddpm"}
MAX_SHOWN = 8  # samples in the trajectory strip
FORWARD_LADDER = (0, 50, 100, 200, 350, 500, 700, 999)


class DiffusionTab:
    """Handlers for the Diffusion tab; the registry's models are only read."""

    def __init__(self, registry: Registry):
        self.registry = registry
        # The last grids drawn (settings -> images): the diversity meter reads the grid the page just showed
        # instead of sampling it again.
        self._recent: collections.OrderedDict[tuple, torch.Tensor] = collections.OrderedDict()
        self._lock = threading.Lock()

    def _model(self, name) -> DiffusionModel:
        within_lesson("diffusion.model", name)
        try:
            return self.registry.load(name, "diffusion")
        except UnknownModel as error:
            raise UserError(tr("Unknown diffusion model: {error}.", error=translate_message(str(error)))) from None

    def _settings(self, name, seed, grid_size, digit, steps, guidance, sampler, autoguidance, notices: Notices):
        model = self._model(name)
        seed = integer(seed, "Seed", 0, MAX_SEED, notices)
        count = integer(grid_size, "Grid size", 1, MAX_GRID, notices)
        steps = integer(steps, "Sampling steps", 1, MAX_STEPS, notices)
        guidance = number(guidance, "Guidance scale", 0.0, MAX_GUIDANCE, notices)
        autoguidance = number(autoguidance, "Autoguidance", 0.0, MAX_AUTOGUIDANCE, notices)
        if autoguidance and not self.registry.has_guide(name):
            notices.add(tr("{name} has no guide model, so autoguidance is off.", name=name))
            autoguidance = 0.0
        sampler = SAMPLERS[choice(sampler, "Sampler", list(SAMPLERS))]
        digit = choice(str(digit) if isinstance(digit, int) else digit, "Digit", DIGITS)
        within_lesson("diffusion.grid", count)
        within_lesson("diffusion.steps", steps)
        label = None if digit == MIXED else model.null_class if digit == UNCONDITIONAL else int(digit)
        if label == model.null_class and guidance:
            notices.add(tr("With no class, guidance has nothing to push towards: it makes no difference."))
        return model, (name, seed, count, label, steps, guidance, sampler, autoguidance)

    def _remember(self, key: tuple, images: torch.Tensor) -> None:
        with self._lock:
            self._recent[key] = images
            self._recent.move_to_end(key)
            while len(self._recent) > 32:
                self._recent.popitem(last=False)

    def _denoise(self, model, key: tuple):
        name, seed, count, label, steps, guidance, sampler, autoguidance = key
        guide = self.registry.guide(name) if autoguidance else None
        return denoise(model, seed, count, label, steps, guidance, sampler, guide, autoguidance)

    def sample(self, name, seed, grid_size, digit, steps, guidance, sampler, frames, shown, autoguidance=0.0):
        """A grid of digits denoised from the noise of `seed`, and the first samples' trajectory from noise to digit:
        (grid, strip, GIF, info). autoguidance > 0 steers away from the model's guide (a weaker model), if it has
        one."""
        notices = Notices()
        model, key = self._settings(name, seed, grid_size, digit, steps, guidance, sampler, autoguidance, notices)
        frames = integer(frames, "Frames", 2, MAX_FRAMES, notices)
        shown = integer(shown, "Samples in the trajectory", 1, MAX_SHOWN, notices)
        _, seed, count, _, steps, guidance, sampler, autoguidance = key
        result = self._denoise(model, key)
        self._remember(key, result.images)
        shown = min(shown, count)
        picture = picture_file(grid(result.images))
        alt = judge_description(
            self.registry,
            tr("{count} diffusion samples", count=count) if count > 1 else tr("1 diffusion sample"),
            result.images,
        )
        trajectory, gif, times = self._trajectory(result, frames, shown)
        info = tr(
            "{count} samples · seed {seed} · {steps} {sampler} steps · guidance {guidance:g}",
            count=count,
            seed=seed,
            steps=steps,
            sampler=sampler.upper(),
            guidance=guidance,
        )
        if autoguidance:
            info += tr(" · autoguidance {autoguidance:g}", autoguidance=autoguidance)
        trajectory_info = tr(
            "Top rows: the noisy state x_t of the first {shown} samples after {times} of {steps} sampler steps (0: the "
            "starting noise); below each, the model's prediction of the clean digit at that step. The GIF plays "
            "every step.",
            shown=shown,
            times=", ".join(str(t) for t in times),
            steps=steps,
        )
        strip_alt = tr(
            "The denoising of {shown} samples in {frames} frames, from noise to digits", shown=shown, frames=frames
        )
        return (
            described(picture, alt),
            described(picture_file(trajectory), strip_alt),
            described(str(gif), strip_alt),
            notices.markdown() + info,
            trajectory_info,
        )

    def _trajectory(self, result, frames: int, shown: int):
        """The strip (noisy state above the clean prediction, per sample, at `frames` steps from pure noise) and
        the GIF of every step (noisy grid beside the predicted grid)."""
        from genmodels.diffusion_pipeline import frame_indices

        steps = len(result.times)
        chosen = frame_indices(steps, frames - 1)  # the first frame is the pure noise
        times = [0] + [i + 1 for i in chosen]  # sampler steps done (0: the starting noise)
        rows = []
        for index in range(shown):
            noisy = torch.cat([result.start[index : index + 1], result.states[chosen, index]])
            clean = torch.cat([torch.zeros(1, 1, 28, 28) - 1, result.predictions[chosen, index]])
            rows.append(grid(torch.cat([noisy, clean]), columns=len(times), scale=2))
        picture = stacked(rows, gap=6)
        movie = []
        columns = min(shown, 4)
        for step in range(steps):
            pair = side_by_side(
                [
                    grid(result.states[step, :shown].clamp(-1, 1), columns=columns, scale=3),
                    grid(result.predictions[step, :shown], columns=columns, scale=3),
                ]
            )
            movie.append(torch.from_numpy(pair[..., 0].copy()).float().div(127.5).sub(1).unsqueeze(0))
        gif = write_gif(torch.stack(movie), output_path(".gif"), frame_ms=120, scale=1, bounce=False)
        return picture, gif, times

    def diversity(self, name, seed, grid_size, digit, steps, guidance, sampler, frames, shown, autoguidance=0.0):
        """The diversity meter of the grid `sample` draws with the same settings (the judge's class histogram, its
        entropy and the Inception score, beside real held-out digits' with as many images)."""
        model, key = self._settings(name, seed, grid_size, digit, steps, guidance, sampler, autoguidance, Notices())
        with self._lock:
            images = self._recent.get(key)
        if images is None:
            images = self._denoise(model, key).images
        return diversity_meter(self.registry, images)

    def forward(self, name, index, t, seed):
        """A held-out digit noised at a ladder of steps and at t, with the model's guess of the clean digit from
        each: (picture, info)."""
        notices = Notices()
        model = self._model(name)
        digits, position = held_out_digit(index, notices)
        t = integer(t, "Step t", 0, model.config.timesteps - 1, notices)
        seed = integer(seed, "Seed", 0, MAX_SEED, notices)
        times = sorted(set(FORWARD_LADDER) | {t})
        digit = int(digits.labels[position])
        result = forward_process(model, to_signed(digits.images[position : position + 1]), times, seed)
        captions = [f"t={s}" for s in times]
        picture = stacked(
            [
                grid(result.noisy.clamp(-1, 1), columns=len(times), scale=3, captions=captions),
                grid(result.predictions, columns=len(times), scale=3, captions=["x̂0"] * len(times)),
            ],
            gap=6,
        )
        share = result.signal[times.index(t)]
        info = tr(
            "Held-out digit #{position} (a {digit}) noised by the forward process. At t = {t}, "
            "x_t = {signal:.3f}·x_0 + {noise:.3f}·ε: {percent:.1%} of the variance is the digit. Bottom row: the "
            "model's one-step guess of the clean digit from each x_t, without being told the digit.",
            position=position,
            digit=digit,
            t=t,
            signal=share,
            noise=(1 - share**2) ** 0.5,
            percent=share**2,
        )
        alt = tr("Digit {digit} noised at t = {times}", digit=digit, times=", ".join(map(str, times)))
        return described(picture_file(picture), alt), notices.markdown() + info

    def guidance_defaults(self, name):
        """The guidance sliders' starting values for model `name`: autoguidance if it has a guide, else
        classifier-free guidance (genmodels.diffusion.default_guidance)."""
        has_guide = self.registry.has_guide(name)
        guidance, autoguidance = default_guidance(has_guide)
        return gr.update(value=guidance), gr.update(value=autoguidance, interactive=has_guide)

    def model_info(self, name):
        model = self._model(name)
        metrics = self.registry.entry(name).metrics
        parameters = sum(p.numel() for p in model.parameters())
        if model.config.prediction == "v":
            first = tr(
                "**{name}**: a class-conditional denoising diffusion model, a U-Net of {parameters:,} parameters "
                "trained to predict v (the noise and the clean digit mixed by the noise level), {timesteps} noise "
                "levels (cosine schedule).",
                name=name,
                parameters=parameters,
                timesteps=model.config.timesteps,
            )
        else:
            first = tr(
                "**{name}**: a class-conditional denoising diffusion model, a U-Net of {parameters:,} parameters "
                "trained to predict the noise, {timesteps} noise levels (cosine schedule).",
                name=name,
                parameters=parameters,
                timesteps=model.config.timesteps,
            )
        lines = [first]
        if self.registry.has_guide(name):
            lines.append(
                tr(
                    "Shipped with a guide for autoguidance, **{guide}**: a weaker model of the same digits. The tab "
                    "starts at autoguidance {autoguidance:g} without classifier-free guidance; its card shows what "
                    "each kind of guidance does to the Fréchet distance and class accuracy.",
                    guide=f"{name}{GUIDE_SUFFIX}",
                    autoguidance=default_guidance(True)[1],
                )
            )
        if "class_accuracy" in metrics:
            lines.append(
                tr(
                    "On its card: class accuracy **{accuracy:.1%}**, Inception score **{score:.2f}**, Fréchet "
                    "distance **{fd:.1f}** ({samples} samples, {steps} {sampler} steps, guidance {guidance:g}).",
                    accuracy=metrics["class_accuracy"],
                    score=metrics["inception_score"],
                    fd=metrics.get("frechet_distance_500", float("nan")),
                    samples=metrics.get("samples", "?"),
                    steps=metrics.get("sampling_steps", "?"),
                    sampler=metrics.get("sampler", "ddim").upper(),
                    guidance=metrics.get("guidance", 0),
                )
                + (
                    tr(" With autoguidance {autoguidance:g}.", autoguidance=metrics["autoguidance"])
                    if metrics.get("autoguidance")
                    else ""
                )
            )
        evaluation = shipped_evaluation()
        if name in evaluation and "real digits" in evaluation:
            ours, real = evaluation[name], evaluation["real digits"]
            lines.append(
                tr(
                    "Against real digits (`python -m genmodels.evaluate`): Fréchet distance with 500 images "
                    "**{fd:.1f} ± {spread:.1f}** over 5 seeds, where two halves of the held-out digits are {floor:.1f} "
                    "apart (the floor, with as many images) · Inception score with 1,000 images **{score:.2f}**, "
                    "{percent:.0%} of the real digits' {real:.2f}.",
                    fd=ours["frechet_500_mean"],
                    spread=ours["frechet_500_spread"],
                    floor=real["frechet_floor"],
                    score=ours["inception_score_1000"],
                    percent=ours["inception_score_1000"] / real["inception_score_real_1000"],
                    real=real["inception_score_real_1000"],
                )
            )
            more = evaluation.get(more_steps_name(name))
            if more:
                lines.append(
                    tr(
                        "With {steps} sampling steps in place of {default}: Fréchet distance **{fd:.1f} ± "
                        "{spread:.1f}**, class accuracy {accuracy:.1%}, at {ms:.0f} ms per image against "
                        "{default_ms:.0f}.",
                        steps=more["sampling_steps"],
                        default=ours.get("sampling_steps", DIFFUSION_STEPS),
                        fd=more["frechet_500_mean"],
                        spread=more["frechet_500_spread"],
                        accuracy=more.get("class_accuracy_500_mean", 0.0),
                        ms=more["ms_per_image"],
                        default_ms=ours["ms_per_image"],
                    )
                )
        return "\n\n".join(lines)


def new_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


def build(demo: gr.Blocks, registry: Registry) -> gr.Dropdown:
    """The Diffusion tab's widgets and events, inside `demo`; returns its model picker."""
    tab = DiffusionTab(registry)
    names = registry.names("diffusion")
    heavy = {**IMAGES, "preprocess": False}
    first_guidance, first_autoguidance = default_guidance(bool(names) and registry.has_guide(names[0]))
    with gr.Tab(T("Diffusion"), id="Diffusion") as tab_block:
        gr.Markdown(T("diffusion.intro"))
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                model = gr.Dropdown(names, value=names[0] if names else None, label=T("Model"))
                model_info = gr.Markdown()
                with gr.Row():
                    seed = gr.Number(7, label=T("Seed"), precision=0, minimum=0, maximum=MAX_SEED)
                    reseed = gr.Button(T("New random seed"), scale=0)
                grid_size = gr.Slider(1, MAX_GRID, 16, step=1, label=T("Grid size"))
                digit = gr.Dropdown(DIGIT_CHOICES, value=MIXED, label=T("Digit"))
                steps = gr.Slider(
                    1, MAX_STEPS, 20, step=1, label=T("Sampling steps"), info=T("more: slower, finer details")
                )
                guidance = gr.Slider(
                    0.0,
                    MAX_GUIDANCE,
                    first_guidance,
                    step=0.5,
                    label=T("Guidance scale"),
                    info=T("classifier-free guidance: higher follows the digit more, with less variety"),
                )
                autoguidance = gr.Slider(
                    0.0,
                    MAX_AUTOGUIDANCE,
                    first_autoguidance,
                    step=0.25,
                    label=T("Autoguidance"),
                    info=T("steer away from a weaker model's mistakes: cleaner digits, variety kept (needs a guide)"),
                    interactive=bool(names) and registry.has_guide(names[0]),
                )
                sampler = gr.Radio(
                    [(T(label), label) for label in SAMPLERS],
                    value=next(label for label, kind in SAMPLERS.items() if kind == DEFAULT_SAMPLER),
                    label=T("Sampler"),
                )
                with gr.Row():
                    frames = gr.Slider(2, MAX_FRAMES, 8, step=1, label=T("Trajectory frames"))
                    shown = gr.Slider(1, MAX_SHOWN, 4, step=1, label=T("Samples in the trajectory"))
                run = gr.Button(T("Generate"), variant="primary")
            with gr.Column(scale=2):
                picture = gr.Image(
                    label=T("Samples"),
                    format="png",
                    type="numpy",
                    buttons=["download", "fullscreen"],
                    interactive=False,
                    elem_id="diffusion-samples",
                )
                info = gr.Markdown(elem_id="diffusion-info")
                meter_plot = gr.BarPlot(
                    x="digit",
                    y="share",
                    color="images",
                    label=T("What the judge reads: share of each digit"),
                    height=200,
                    elem_id="diffusion-meter-plot",
                )
                meter_text = gr.Markdown(elem_id="diffusion-meter")
        with gr.Accordion(T("Denoising trajectory: from noise to digit"), open=True):
            trajectory = gr.Image(
                label=T("Trajectory"), format="png", type="numpy", interactive=False, elem_id="diffusion-trajectory"
            )
            with gr.Row():
                movie = gr.Image(
                    label=T("Animated GIF: noisy state (left) and predicted clean digit (right) at every step"),
                    type="filepath",
                    interactive=False,
                    buttons=["download"],
                    elem_id="diffusion-gif",
                )
                trajectory_info = gr.Markdown()
        with gr.Accordion(T("The forward process: noise a real digit"), open=False):
            with gr.Row():
                index = gr.Number(0, label=T("Held-out digit # (0-999)"), precision=0, minimum=0, maximum=999)
                t = gr.Slider(0, 999, 500, step=1, label=T("Step t"))
                noise_it = gr.Button(T("Add noise"), variant="primary")
            forward_picture = gr.Image(
                label=T("x_t and the model's guess of x_0"),
                format="png",
                type="numpy",
                interactive=False,
                elem_id="diffusion-forward",
            )
            forward_info = gr.Markdown(elem_id="diffusion-forward-info")

        register(
            demo,
            {
                "tab.Diffusion": tab_block,
                "diffusion.model": model,
                "diffusion.grid": grid_size,
                "diffusion.steps": steps,
            },
        )
        inputs = [model, seed, grid_size, digit, steps, guidance, sampler, frames, shown, autoguidance]
        outputs = [picture, trajectory, movie, info, trajectory_info]
        model.change(friendly(tab.model_info), model, model_info, api_name="diffusion_model_info", preprocess=False)
        model.input(tab.guidance_defaults, model, [guidance, autoguidance], api_visibility="private")
        sampled = gr.on(
            [
                run.click,
                grid_size.release,
                steps.release,
                guidance.release,
                autoguidance.release,
                digit.input,
                sampler.input,
            ],
            friendly(tab.sample),
            inputs,
            outputs,
            api_name="diffusion_sample",
            **heavy,
        )
        reseeded = reseed.click(new_seed, None, seed, api_name="diffusion_new_seed").then(
            friendly(tab.sample), inputs, outputs, api_visibility="private", **heavy
        )
        noised = gr.on(
            [noise_it.click, t.release],
            friendly(tab.forward),
            [model, index, t, seed],
            [forward_picture, forward_info],
            api_name="diffusion_forward",
            **heavy,
        )
        demo.load(
            with_session(lambda: gr.update(choices=registry.names("diffusion"))), None, model, api_visibility="private"
        )
        first = demo.load(
            friendly(tab.model_info, kind="page"), model, model_info, api_visibility="private", preprocess=False
        ).then(friendly(tab.sample, kind="page"), inputs, outputs, api_visibility="private", **heavy)
        plot_titles(demo, meter_plot, "digit", "share", "images")
        for position, event in enumerate((sampled, reseeded, first)):
            then_describe(event, picture, trajectory, movie)
            names = {"api_name": "diffusion_diversity"} if position == 0 else {"api_visibility": "private"}
            kind = "page" if event is first else "request"
            event.success(friendly(tab.diversity, kind=kind), inputs, [meter_plot, meter_text], **names, **heavy)
        then_describe(noised, forward_picture)

        learn_panel(
            "diffusion",
            [
                (DiffusionModel.noised, "The forward process: how much digit and how much noise x_t holds at step t."),
                (
                    diffusion_loss,
                    "The training objective: predict the noise or v (the shipped model), min-SNR weighted.",
                ),
                (sample, "The samplers: DDIM's deterministic update and DDPM's stochastic one, with guidance."),
            ],
        )
        experiments = ExperimentPanel("diffusion", diffusion_experiments(registry), IMAGES)
        experiments.wire(demo)
        register(demo, {"experiment.diffusion": experiments.picker, "experiment_box.diffusion": experiments.box})
    return model
