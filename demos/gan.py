"""The GAN tab: seeded grids, class, truncation and latent-direction controls, seed-to-seed interpolation."""

import secrets

import gradio as gr

from genmodels.evaluate import shipped_evaluation
from genmodels.gan import Generator
from genmodels.gan_pipeline import (
    DIRECTION_COUNT,
    MAX_FRAMES,
    MAX_GRID,
    categories_in_turn,
    discriminator_scores,
    generate,
    interpolation_latents,
    latent_directions,
    sample_latents,
)
from genmodels.imaging import grid, score_colors, strip, write_gif
from genmodels.registry import Registry, UnknownModel
from genmodels.sampling import MAX_SEED, slerp, truncate

from .common import (
    IMAGES,
    Notices,
    UserError,
    choice,
    described,
    diversity_meter,
    flag,
    friendly,
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
from .experiments import gan_experiments
from .i18n import T, tr
from .learn import ExperimentPanel, learn_panel

MIXED = "0-9 in turn"
DIGITS = [MIXED] + [str(digit) for digit in range(10)]
DIGIT_CHOICES = [(T(MIXED), MIXED), *DIGITS[1:]]
MODES = {"spherical (slerp)": "slerp", "linear (lerp)": "lerp"}
DIRECTION_LIMIT = 3.0


class GANTab:
    """Handlers for the GAN tab; the registry's models are only read."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def _model(self, name):
        within_lesson("gan.model", name)
        try:
            return self.registry.load(name, "gan")
        except UnknownModel as error:
            raise UserError(tr("Unknown GAN model: {error}.", error=error)) from None

    def _directions(self, name):
        return self.registry.derived(name, "directions", latent_directions)

    def _label(self, gan, digit, notices: Notices) -> int | None:
        """The digit of a conditional GAN or the category of an InfoGAN or a self-conditioned GAN; None for "0-9 in
        turn" and others."""
        options = DIGITS + [str(code) for code in range(10, gan.config.info_codes)]
        digit = choice(str(digit) if isinstance(digit, int) else digit, "Digit", options)
        if gan.coded:
            if digit != MIXED and int(digit) >= gan.config.info_codes:
                raise UserError(tr("This model has categories 0 to {last}.", last=gan.config.info_codes - 1))
            return None if digit == MIXED else int(digit)
        if not gan.conditional:
            if digit != MIXED:
                notices.add(tr("This model is unconditional: it cannot be told which digit to draw."))
            return None
        return None if digit == MIXED else int(digit)

    def model_info(self, name: str) -> tuple[dict, str]:
        """Show the digit picker only for conditional models, and the model's measured quality."""
        gan = self._model(name)
        entry = self.registry.entry(name)
        metrics = entry.metrics
        real = {}
        if "mnist-classifier" in self.registry.names("classifier"):
            real = self.registry.entry("mnist-classifier").metrics
        kind = tr("class-conditional") if gan.conditional else tr("unconditional")
        lines = [tr("**{name}**: {kind}, z is {z_dim}-d.", name=name, kind=kind, z_dim=gan.config.z_dim)]
        if gan.clustered:
            lines.append(
                tr(
                    "A self-conditioned GAN: it never saw a label. Its training digits were split into {codes} "
                    "clusters of equal size by a VAE's codes, and its discriminator judged each image against its "
                    "cluster. A category in its latent (the largest of z's first {codes} values) picks the cluster to "
                    "draw from. Pick a category to see what it found; with “0-9 in turn” each column of the grid is "
                    "one category.",
                    codes=gan.config.info_codes,
                )
            )
        elif gan.coded:
            lines.append(
                tr(
                    "An InfoGAN: it never saw a label, but it was trained so that a category in its latent (one of "
                    "{codes}: the largest of z's first {codes} values) can be read back from each image. Pick a "
                    "category to see what it found; with “0-9 in turn” each column of the grid is one category.",
                    codes=gan.config.info_codes,
                )
            )
        if metrics:
            line = tr("Inception score **{score:.2f}**", score=metrics.get("inception_score", float("nan")))
            if real:
                line += tr(" (real held-out digits: {score:.2f})", score=real["held_out_inception_score"])
            line += tr(
                " · Fréchet distance **{value:.1f}** to held-out digits",
                value=metrics.get("frechet_distance", float("nan")),
            )
            if "class_accuracy" in metrics:
                line += tr(" · class accuracy **{value:.1%}**", value=metrics["class_accuracy"])
            lines.append(line + tr(" · {count} samples, classifier-based.", count=metrics.get("samples", "?")))
        evaluation = shipped_evaluation()
        if name in evaluation and "real digits" in evaluation:  # python -m genmodels.evaluate, beside the floor
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
        if "per_class_accuracy" in metrics:
            per_digit = ", ".join(f"{d}: {v:.0%}" for d, v in enumerate(metrics["per_class_accuracy"]))
            lines.append(tr("Per-digit accuracy: {values}.", values=per_digit))
        explained = self._directions(name).explained_variance.tolist()
        lines.append(
            tr(
                "Directions 1-5 explain {values} of the early activations' variance.",
                values=", ".join(f"{100 * value:.1f}%" for value in explained),
            )
        )
        picker = tr("Digit (conditional model)")
        if gan.clustered:
            picker = tr("Category (clusters found without labels)")
        elif gan.coded:
            picker = tr("Category (InfoGAN, found without labels)")
        shown = gan.conditional or gan.coded
        # an update is sent as plain JSON: the labels are translated here (T's lazy labels serve the page's config)
        choices = [(tr(MIXED), MIXED), *DIGITS[1:], *[str(code) for code in range(10, gan.config.info_codes)]]
        return gr.update(visible=shown, interactive=shown, label=picker, choices=choices), "\n\n".join(lines)

    def _grid(self, name, seed, grid_size, digit, psi, offsets, notices: Notices):
        """The checked settings of a grid and its images: (gan, seed, count, psi, images, labels)."""
        gan = self._model(name)
        seed = integer(seed, "Seed", 0, MAX_SEED, notices)
        count = integer(grid_size, "Grid size", 1, MAX_GRID, notices)
        psi = number(psi, "Truncation ψ", 0.0, 1.0, notices)
        within_lesson("gan.grid", count)
        within_lesson("gan.psi", psi)
        if len(offsets) != DIRECTION_COUNT:
            raise UserError(
                tr("Expected {expected} direction values, got {count}.", expected=DIRECTION_COUNT, count=len(offsets))
            )
        offsets = [
            number(v, tr("Direction {index}", index=i + 1), -DIRECTION_LIMIT, DIRECTION_LIMIT, notices)
            for i, v in enumerate(offsets)
        ]
        label = self._label(gan, digit, notices)
        z = sample_latents(gan, seed, count, psi, offsets, self._directions(name))
        if gan.coded and label is None:
            z = categories_in_turn(gan, z)
        images, labels = generate(gan, z, label)
        return gan, seed, count, psi, images, labels

    def sample(self, name, seed, grid_size, digit, psi, show_scores, *offsets):
        """A grid of samples for one seed, with truncation, directions and optional discriminator scores."""
        notices = Notices()
        show_scores = flag(show_scores, "Show discriminator score")
        gan, seed, count, psi, images, labels = self._grid(name, seed, grid_size, digit, psi, offsets, notices)
        captions = colors = None
        if show_scores:
            scores = discriminator_scores(gan, images, labels).tolist()
            captions, colors = [f"{score:+.1f}" for score in scores], score_colors(scores)
        info = tr(
            "{count} sample · seed {seed} · ψ {psi:.2f}"
            if count == 1
            else "{count} samples · seed {seed} · ψ {psi:.2f}",
            count=count,
            seed=seed,
            psi=psi,
        )
        if show_scores:
            info += tr(" · discriminator score on each tile (+ blue: looks real to it, − orange: looks fake)")
        alt = self._describe(tr("{count} GAN sample" if count == 1 else "{count} GAN samples", count=count), images)
        if show_scores:
            alt += tr("; discriminator scores: {scores}", scores=" ".join(captions))
        picture = picture_file(grid(images, captions=captions, caption_colors=colors))
        return described(picture, alt), notices.markdown() + info

    def diversity(self, name, seed, grid_size, digit, psi, show_scores, *offsets):
        """The diversity meter of the grid `sample` draws with the same settings: the judge's class histogram, its
        entropy and the Inception score, beside real held-out digits' with as many images."""
        if "mnist-classifier" not in self.registry.names("classifier"):
            return diversity_meter(self.registry, None)
        _, _, _, _, images, _ = self._grid(name, seed, grid_size, digit, psi, offsets, Notices())
        return diversity_meter(self.registry, images)

    def interpolate(self, name, seed_a, seed_b, frames, mode, psi, digit):
        """A strip and a looping GIF walking from the first sample of seed A to that of seed B."""
        notices = Notices()
        gan = self._model(name)
        seed_a = integer(seed_a, "Seed A", 0, MAX_SEED, notices)
        seed_b = integer(seed_b, "Seed B", 0, MAX_SEED, notices)
        frames = integer(frames, "Frames", 2, MAX_FRAMES, notices)
        mode = MODES[choice(mode, "Path", list(MODES))]
        psi = number(psi, "Truncation ψ", 0.0, 1.0, notices)
        within_lesson("gan.frames", frames)
        within_lesson("gan.psi", psi)
        label = self._label(gan, digit, notices)
        images, _ = generate(gan, interpolation_latents(gan, seed_a, seed_b, frames, mode, psi), label)
        gif = write_gif(images, output_path(".gif"))
        info = tr(
            "{frames} frames from seed {seed_a} to seed {seed_b}, {mode}",
            frames=frames,
            seed_a=seed_a,
            seed_b=seed_b,
            mode=mode,
        )
        alt = self._describe(
            tr("{frames} frames from seed {seed_a} to seed {seed_b}", frames=frames, seed_a=seed_a, seed_b=seed_b),
            images,
        )
        return described(picture_file(strip(images, scale=2)), alt), described(str(gif), alt), notices.markdown() + info

    def _describe(self, what: str, images) -> str:
        return judge_description(self.registry, what, images)


def new_seed() -> int:
    """A fresh random seed (from the OS, not torch's global generator)."""
    return secrets.randbelow(MAX_SEED + 1)


def build(demo: gr.Blocks, registry: Registry) -> gr.Dropdown:
    """The GAN tab's widgets and events, inside `demo`; returns its model picker."""
    tab = GANTab(registry)
    names = registry.names("gan")
    # preprocess=False: handlers get the raw values and check them all themselves (the API skips widget bounds).
    heavy = {**IMAGES, "preprocess": False}
    with gr.Tab(T("GAN"), id="GAN") as tab_block:
        gr.Markdown(T("Generate digits with GANs trained on MNIST. Same seed, same images, on every machine."))
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                model = gr.Dropdown(names, value=names[0] if names else None, label=T("Model"))
                model_info = gr.Markdown()
                with gr.Row():
                    seed = gr.Number(42, label=T("Seed"), precision=0, minimum=0, maximum=MAX_SEED)
                    reseed = gr.Button(T("New random seed"), scale=0)
                grid_size = gr.Slider(1, MAX_GRID, 16, step=1, label=T("Grid size"))
                # a model with more categories than digits widens the choices (model_info); every value is checked
                digit = gr.Dropdown(
                    DIGIT_CHOICES, value=MIXED, label=T("Digit (conditional model)"), allow_custom_value=True
                )
                psi = gr.Slider(
                    0.0, 1.0, 1.0, step=0.05, label=T("Truncation ψ"), info=T("lower: more typical, less varied")
                )
                show_scores = gr.Checkbox(False, label=T("Show discriminator score on each sample"))
                with gr.Accordion(T("Latent directions"), open=False):
                    gr.Markdown(T("gan.directions_note"))
                    offsets = [
                        gr.Slider(-DIRECTION_LIMIT, DIRECTION_LIMIT, 0.0, step=0.25, label=T(f"Direction {i + 1}"))
                        for i in range(DIRECTION_COUNT)
                    ]
                run = gr.Button(T("Generate"), variant="primary")
            with gr.Column(scale=2):
                picture = gr.Image(
                    label=T("Samples"),
                    format="png",
                    type="numpy",
                    buttons=["download", "fullscreen"],
                    interactive=False,
                    elem_id="gan-samples",
                )
                info = gr.Markdown(elem_id="gan-info")
                meter_plot = gr.BarPlot(
                    x="digit",
                    y="share",
                    color="images",
                    label=T("What the judge reads: share of each digit"),
                    height=200,
                    elem_id="gan-meter-plot",
                )
                meter_text = gr.Markdown(elem_id="gan-meter")
        with gr.Accordion(T("Seed-to-seed interpolation"), open=True):
            with gr.Row():
                seed_a = gr.Number(1, label=T("Seed A"), precision=0, minimum=0, maximum=MAX_SEED)
                seed_b = gr.Number(2, label=T("Seed B"), precision=0, minimum=0, maximum=MAX_SEED)
                frames = gr.Slider(2, MAX_FRAMES, 16, step=1, label=T("Frames"))
                mode = gr.Radio([(T(m), m) for m in MODES], value="spherical (slerp)", label=T("Path"))
                walk = gr.Button(T("Interpolate"), variant="primary")
            walk_strip = gr.Image(
                label=T("Interpolation"), format="png", type="numpy", interactive=False, elem_id="gan-strip"
            )
            with gr.Row():
                walk_gif = gr.Image(
                    label=T("Animated GIF"),
                    type="filepath",
                    interactive=False,
                    buttons=["download"],
                    elem_id="gan-gif",
                )
                walk_info = gr.Markdown()

        register(
            demo,
            {"tab.GAN": tab_block, "gan.model": model, "gan.grid": grid_size, "gan.psi": psi, "gan.frames": frames},
        )
        sample_inputs = [model, seed, grid_size, digit, psi, show_scores, *offsets]
        model.change(friendly(tab.model_info), model, [digit, model_info], api_name="gan_model_info", preprocess=False)
        sampled = gr.on(
            [run.click, grid_size.release, psi.release, show_scores.input, digit.input, *(o.release for o in offsets)],
            friendly(tab.sample),
            sample_inputs,
            [picture, info],
            api_name="gan_sample",
            **heavy,
        )
        reseeded = reseed.click(new_seed, None, seed, api_name="gan_new_seed").then(
            friendly(tab.sample), sample_inputs, [picture, info], api_visibility="private", **heavy
        )
        walked = walk.click(
            friendly(tab.interpolate),
            [model, seed_a, seed_b, frames, mode, psi, digit],
            [walk_strip, walk_gif, walk_info],
            api_name="gan_interpolate",
            **heavy,
        )
        demo.load(with_session(lambda: gr.update(choices=registry.names("gan"))), None, model, api_visibility="private")
        first = demo.load(
            friendly(tab.model_info, kind="page"),
            model,
            [digit, model_info],
            api_visibility="private",
            preprocess=False,
        ).then(friendly(tab.sample, kind="page"), sample_inputs, [picture, info], api_visibility="private", **heavy)
        plot_titles(demo, meter_plot, "digit", "share", "images")
        for index, event in enumerate((sampled, reseeded, first)):
            then_describe(event, picture)
            # the diversity meter of the same grid (an endpoint of its own: /gan_sample's answer stays as it was)
            names = {"api_name": "gan_diversity"} if index == 0 else {"api_visibility": "private"}
            kind = "page" if event is first else "request"
            event.success(friendly(tab.diversity, kind=kind), sample_inputs, [meter_plot, meter_text], **names, **heavy)
        then_describe(walked, walk_strip, walk_gif)

        learn_panel(
            "gan",
            [
                (
                    Generator.forward,
                    "The generator's forward pass: a latent vector z (and, if conditional, the digit's embedding) "
                    "becomes a 28×28 image in [-1, 1].",
                ),
                (truncate, "Truncation: every latent vector is scaled by ψ."),
                (slerp, "Spherical interpolation between two latent vectors."),
            ],
        )
        experiments = ExperimentPanel("gan", gan_experiments(registry), IMAGES)
        experiments.wire(demo)
        register(demo, {"experiment.gan": experiments.picker, "experiment_box.gan": experiments.box})
    return model


if __name__ == "__main__":
    with gr.Blocks(title="GenLab GAN") as standalone:
        build(standalone, Registry())
    standalone.queue(max_size=64).launch()
