"""The VAE tab: put in real, drawn or uploaded digits, see what the model sees, walk between them in latent space."""

import json

import gradio as gr
import numpy as np
import torch

from genmodels.data import DatasetUnavailable, held_out_digits
from genmodels.evaluate import shipped_evaluation
from genmodels.imaging import grid, mark, strip, write_gif
from genmodels.preprocess import ImageRejected, open_image, to_mnist
from genmodels.registry import Registry, UnknownModel
from genmodels.sampling import MAX_SEED
from genmodels.vae import REFINE_STEPS, VAE, kl_divergence, reparameterize, vae_losses
from genmodels.vae_pipeline import (
    MAP_EXTENT,
    MAX_MAP_CELLS,
    MAX_STEPS,
    REFINE_DRAWS,
    crossfade,
    decode,
    encode,
    interpolate_codes,
    latent_map,
    map_point,
    map_position,
    prior_samples,
    refine_one,
)

from . import vqvae
from .common import (
    IMAGES,
    Notices,
    UserError,
    choice,
    described,
    flag,
    friendly,
    integer,
    judge_description,
    number,
    output_path,
    picture_file,
    register,
    then_describe,
    with_session,
    within_lesson,
)
from .experiments import vae_experiments
from .i18n import T, tr, translate_message
from .learn import ExperimentPanel, learn_panel

MODES = {"linear (lerp)": "lerp", "spherical (slerp)": "slerp"}
UNIT = (0.0, 1.0)
EXPLORE_DIMS = 6
EXPLORE_LIMIT = 3.0
MAP_SCALE = 2  # map tiles are 28 * MAP_SCALE pixels, with no gaps, so pixels map linearly to latent values


def uploaded_image(payload):
    """The picture in a raw file payload (Gradio has already checked the file is in its upload cache)."""
    path = payload.get("path") if isinstance(payload, dict) else payload if isinstance(payload, str) else None
    if not path:
        raise UserError(tr("Expected an image file."))
    try:
        image = open_image(path)
    except ImageRejected as error:
        raise UserError(translate_message(str(error))) from None
    # A 28x28 greyscale picture is a prepared input coming back; anything else is normalised like an upload.
    return np.asarray(image) if image.size == (28, 28) and image.mode == "L" else image


def as_input_image(image) -> torch.Tensor:
    """A prepared input (what the model sees) from the API or the page -> (1, 28, 28) in [0, 1]."""
    if image is None:
        raise UserError(tr("Prepare input A and input B first (pick, draw or upload a digit)."))
    if isinstance(image, (dict, str)):
        image = uploaded_image(image)
    if not isinstance(image, np.ndarray):
        try:
            return to_mnist(image)
        except ImageRejected as error:
            raise UserError(translate_message(str(error))) from None
    array = np.asarray(image)
    if array.dtype == object or array.ndim not in (2, 3) or array.size == 0:
        raise UserError(tr("An input must be an image."))
    if array.shape[:2] != (28, 28):
        try:
            return to_mnist(array)  # an API client sent an arbitrary picture: normalise it like any upload
        except ImageRejected as error:
            raise UserError(translate_message(str(error))) from None
    if array.ndim == 3:
        array = array[..., :3].mean(axis=2)
    return torch.from_numpy(array.astype(np.float32) / 255.0).unsqueeze(0)


def code_text(z: torch.Tensor) -> str:
    return json.dumps([round(float(v), 3) for v in z])


class VAETab:
    """Handlers for the VAE tab; models are only read."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def _model(self, name):
        within_lesson("vae.model", name)
        try:
            return self.registry.load(name, "vae")
        except UnknownModel as error:
            raise UserError(tr("Unknown VAE model: {error}.", error=translate_message(str(error)))) from None

    def _describe(self, what: str, images: torch.Tensor) -> str:
        """Alt text: what the judge classifier reads in each picture (images (N, 1, 28, 28) in [0, 1])."""
        return judge_description(self.registry, what, images, value_range=UNIT)

    def _prepared(self, image: torch.Tensor, notices: Notices, label: str):
        picture = (image[0].numpy() * 255).round().astype(np.uint8)
        alt = self._describe(tr("Input: {label}, 28 by 28 pixels", label=label), image.unsqueeze(0))
        return described(picture_file(picture), alt), notices.markdown() + tr(
            "Input: {label}, normalised to 28x28 as MNIST was made.", label=label
        )

    def prepare_digit(self, index):
        """A held-out MNIST digit, as the model sees it."""
        notices = Notices()
        try:
            digits = held_out_digits()
        except DatasetUnavailable:
            raise UserError(tr("The MNIST digits are not available on this server: draw or upload instead.")) from None
        position = integer(index, "Held-out digit", 0, len(digits.labels) - 1, notices)
        image = digits.images[position].float().unsqueeze(0) / 255.0
        label = tr("held-out digit #{position} (a {digit})", position=position, digit=int(digits.labels[position]))
        return self._prepared(image, notices, label)

    def prepare_sketch(self, sketch):
        """A drawing, cropped, fitted and centred like an MNIST digit."""
        composite = sketch.get("composite") if isinstance(sketch, dict) else None
        if composite is None:
            raise UserError(tr("The sketchpad is empty: draw a digit first."))
        try:
            return self._prepared(to_mnist(np.asarray(composite)), Notices(), tr("your sketch"))
        except ImageRejected as error:
            raise UserError(translate_message(str(error))) from None

    def prepare_upload(self, upload):
        """An uploaded picture (any size, format, polarity), normalised like an MNIST digit."""
        if upload is None:
            raise UserError(tr("No file uploaded yet."))
        path = upload.get("path") if isinstance(upload, dict) else upload
        try:
            return self._prepared(to_mnist(open_image(path)), Notices(), tr("your upload"))
        except (ImageRejected, TypeError) as error:
            message = (
                translate_message(str(error)) if isinstance(error, ImageRejected) else tr("Expected an image file.")
            )
            raise UserError(message) from None

    def encode_one(self, name, image):
        """Reconstruction and latent code of one prepared input."""
        vae = self._model(name)
        x = as_input_image(image)
        z = encode(vae, x.unsqueeze(0))
        reconstruction = decode(vae, z)
        alt = self._describe(tr("The reconstruction"), reconstruction)
        return described(picture_file(grid(reconstruction, scale=6, padding=0, value_range=UNIT)), alt), code_text(z[0])

    def interpolate(self, name, image_a, image_b, steps, mode, show_crossfade):
        """Latent walk A -> B as a strip and a GIF, with the pixel cross-fade for contrast."""
        notices = Notices()
        vae = self._model(name)
        steps = integer(steps, "Steps", 2, MAX_STEPS, notices)
        mode = MODES[choice(mode, "Path", list(MODES))]
        show_crossfade = flag(show_crossfade, "Show pixel cross-fade")
        a, b = as_input_image(image_a), as_input_image(image_b)
        codes = encode(vae, torch.stack([a, b]))
        frames = decode(vae, interpolate_codes(vae, codes[0], codes[1], steps, mode))
        gif = write_gif(frames, output_path(".gif"), value_range=UNIT)
        fade = None
        if show_crossfade:
            faded = crossfade(a, b, steps)
            fade_alt = self._describe(tr("Pixel cross-fade from A to B in {steps} steps", steps=steps), faded)
            fade = described(picture_file(strip(faded, scale=2, value_range=UNIT)), fade_alt)
        info = tr("{steps} steps from A to B through the latent space ({mode}).", steps=steps, mode=mode)
        alt = self._describe(tr("Latent walk from A to B in {steps} steps", steps=steps), frames)
        walk = described(picture_file(strip(frames, scale=2, value_range=UNIT)), alt)
        return walk, described(str(gif), alt), fade, notices.markdown() + info

    def map(self, name, image_a, image_b, cells):
        """The decoded latent plane of a 2-D model, with the encoded A and B marked."""
        notices = Notices()
        vae = self._model(name)
        if vae.config.latent_dim != 2:
            raise UserError(tr("The latent map needs a model with a 2-D latent space (pick vae-2d)."))
        cells = integer(cells, "Map size", 2, MAX_MAP_CELLS, notices)
        tiles = latent_map(vae, cells)
        picture = grid(tiles, columns=cells, scale=MAP_SCALE, padding=0, value_range=UNIT)
        size = picture.shape[0]
        points, lines = [], []
        for label, image in (("A", image_a), ("B", image_b)):
            if image is None:
                continue
            z = encode(vae, as_input_image(image).unsqueeze(0))[0]
            x, y = map_position(z.clamp(-MAP_EXTENT, MAP_EXTENT), size)
            points.append((x, y, label))
            lines.append(f"{label} = {code_text(z)}")
        info = (
            tr("Latent plane from -{extent:g} to {extent:g} on both axes.", extent=MAP_EXTENT) + " " + " · ".join(lines)
        )
        marked = [point[2] for point in points]
        if len(marked) == 2:
            what = tr(
                "A {cells} by {cells} map of the latent plane, rows from top to bottom, with A and B marked",
                cells=cells,
            )
        elif marked:
            what = tr(
                "A {cells} by {cells} map of the latent plane, rows from top to bottom, with {point} marked",
                cells=cells,
                point=marked[0],
            )
        else:
            what = tr("A {cells} by {cells} map of the latent plane, rows from top to bottom", cells=cells)
        alt = self._describe(what, tiles)
        return described(picture_file(mark(picture, points)), alt), notices.markdown() + info

    def decode_point(self, name, z1, z2):
        """Decode one point of a 2-D latent space."""
        notices = Notices()
        vae = self._model(name)
        if vae.config.latent_dim != 2:
            raise UserError(tr("Decoding a map point needs a model with a 2-D latent space."))
        z = torch.tensor([[number(z1, "z1", -10, 10, notices), number(z2, "z2", -10, 10, notices)]])
        image = decode(vae, z)
        alt = self._describe(tr("The digit decoded at z = {code}", code=code_text(z[0])), image)
        picture = described(picture_file(grid(image, scale=6, padding=0, value_range=UNIT)), alt)
        return picture, notices.markdown() + tr("decoded z = {code}", code=code_text(z[0]))

    def map_click(self, name, cells, event: gr.SelectData):
        """Page-only: a click on the map (pixel position) decodes the point under it."""
        cells = integer(cells, "Map size", 2, MAX_MAP_CELLS, Notices())
        x, y = event.index
        z = map_point(float(x), float(y), cells * 28 * MAP_SCALE)[0]
        return self.decode_point(name, float(z[0]), float(z[1]))

    def explore(self, name, image_a, *offsets):
        """Decode A's code moved along its first latent dimensions."""
        notices = Notices()
        vae = self._model(name)
        if len(offsets) != EXPLORE_DIMS:
            raise UserError(tr("Expected {expected} offsets, got {count}.", expected=EXPLORE_DIMS, count=len(offsets)))
        values = [number(v, f"z{i + 1}", -EXPLORE_LIMIT, EXPLORE_LIMIT, notices) for i, v in enumerate(offsets)]
        z = encode(vae, as_input_image(image_a).unsqueeze(0)).clone()  # a normal tensor we may edit
        used = min(EXPLORE_DIMS, vae.config.latent_dim)
        z[0, :used] += torch.tensor(values[:used])
        if any(values[used:]):
            notices.add(
                tr(
                    "This model has {dims} latent dimensions; the other sliders do nothing.",
                    dims=vae.config.latent_dim,
                )
            )
        image = decode(vae, z)
        alt = self._describe(tr("The digit decoded at z = {code}", code=code_text(z[0])), image)
        picture = described(picture_file(grid(image, scale=6, padding=0, value_range=UNIT)), alt)
        return picture, notices.markdown() + f"z = {code_text(z[0])}"

    def prior(self, name, seed, count):
        """Fresh digits decoded from the model's prior (N(0, I), or its learned prior)."""
        notices = Notices()
        vae = self._model(name)
        seed = integer(seed, "Seed", 0, MAX_SEED, notices)
        count = integer(count, "Count", 1, 64, notices)
        images = prior_samples(vae, seed, count)
        alt = self._describe(tr("{count} samples from the prior", count=count), images)
        picture = described(picture_file(grid(images, scale=2, value_range=UNIT)), alt)
        return picture, notices.markdown() + tr("{count} samples from the prior, seed {seed}", count=count, seed=seed)

    def refine(self, name, image):
        """Input A's posterior as the encoder guesses it and refined on the digit's own ELBO: the amortization gap
        of one digit, with both reconstructions."""
        vae = self._model(name)
        x = as_input_image(image)
        result = refine_one(vae, x)
        images = torch.cat([x.unsqueeze(0), result.encoder_image, result.refined_image])
        alt = self._describe(
            tr("Input A, then its reconstruction from the encoder's code, then from the refined code"), images
        )
        text = tr(
            "Left to right: input A, the reconstruction from the encoder's one-pass code, and from the code refined by "
            "{steps} gradient steps on this digit's own ELBO (the decoder and prior unchanged; the code moved "
            "{moved:.2f}). Negative ELBO of this digit (mean of {draws} posterior draws): **{before:.1f}** nats from "
            "the encoder, **{after:.1f}** refined: **{gap:.1f}** nats of amortization gap.",
            steps=REFINE_STEPS,
            moved=result.moved,
            draws=REFINE_DRAWS,
            before=result.encoder_nats,
            after=result.refined_nats,
            gap=result.encoder_nats - result.refined_nats,
        )
        picture = grid(images, columns=3, scale=6, padding=2, value_range=UNIT)
        return described(picture_file(picture), alt), text

    def model_info(self, name):
        vae = self._model(name)
        metrics = self.registry.entry(name).metrics
        text = tr(
            "**{name}**: {dims}-D latent space, β = {beta:g}.",
            name=name,
            dims=vae.config.latent_dim,
            beta=vae.config.beta,
        )
        if metrics:
            text += tr(
                " Held-out, nats per image: reconstruction **{reconstruction:.1f}**, KL **{kl:.1f}**, "
                "negative ELBO **{elbo:.1f}**.",
                reconstruction=metrics["reconstruction_nats"],
                kl=metrics["kl_nats"],
                elbo=metrics["negative_elbo_nats"],
            )
        if metrics and "negative_elbo_refined_nats" in metrics:
            text += tr(
                " With each digit's code refined by {steps} gradient steps on its own ELBO (the same decoder): "
                "**{refined:.1f}**, so the encoder's one-pass guess leaves {gap:.1f} nats on the table (the "
                "amortization gap).",
                steps=metrics["refine_steps"],
                refined=metrics["negative_elbo_refined_nats"],
                gap=metrics["negative_elbo_nats"] - metrics["negative_elbo_refined_nats"],
            )
        if vae.pixel_head is not None:
            text += tr(
                " Its decoder has a pixel head: each pixel also sees the pixels above it and to its left "
                "({kernel}×{kernel} window), so its pictures are drawn pixel by pixel, in reading order.",
                kernel=vae.config.pixel_kernel,
            )
        evaluation = shipped_evaluation()
        floor = evaluation.get("real digits", {}).get("pixel_entropy_nats")
        if metrics and floor:
            text += tr(
                " The floor under these numbers: the held-out digits' grey pixels have **{floor:.1f}** nats of "
                "entropy of their own, which no Bernoulli decoder can go below, so the negative ELBO is "
                "**{above:.1f}** nats above it.",
                floor=floor,
                above=metrics["negative_elbo_nats"] - floor,
            )
        if name in evaluation and "real digits" in evaluation:  # python -m genmodels.evaluate, beside the floor
            ours, real = evaluation[name], evaluation["real digits"]
            text += "\n\n" + tr(
                "Prior samples against real digits (`python -m genmodels.evaluate`): Fréchet distance with 500 "
                "images **{fd:.1f} ± {spread:.1f}** over 5 seeds, where two halves of the held-out digits are "
                "{floor:.1f} apart (the floor) · Inception score **{score:.2f}**, {percent:.0%} of real digits' "
                "{real:.2f} with as many images.",
                fd=ours["frechet_500_mean"],
                spread=ours["frechet_500_spread"],
                floor=real["frechet_floor"],
                score=ours["inception_score_500_mean"],
                percent=ours["inception_score_500_mean"] / real["inception_score_real_500"],
                real=real["inception_score_real_500"],
            )
        return text


def _digit_input(label: str, default_index: int):
    """The widgets for one input (held-out digit, sketchpad, upload: the last one used wins) and what it becomes."""
    with gr.Column(min_width=280):
        gr.Markdown(T(f"vae.input_{label}"))
        with gr.Row():
            index = gr.Number(default_index, label=T("Held-out digit # (0-999)"), precision=0, minimum=0, maximum=999)
            use_digit = gr.Button(T("Use this digit"), scale=0)
        sketch = gr.Sketchpad(
            label=T("Draw a digit"),
            type="numpy",
            canvas_size=(280, 280),
            brush=gr.Brush(default_size=20, colors=["#000000"], color_mode="fixed"),
            elem_id=f"vae-sketch-{label.lower()}",
        )
        upload = gr.File(label=T("Upload an image"), file_types=["image"], type="filepath")
        with gr.Row():
            prepared = gr.Image(
                format="png",
                label=T(f"{label}: what the model sees"),
                type="numpy",
                image_mode="L",
                height=140,
                interactive=False,
                elem_id=f"vae-prepared-{label.lower()}",
                elem_classes="pixelated",
            )
            reconstruction = gr.Image(
                format="png", label=T(f"{label}: reconstruction"), type="numpy", height=140, interactive=False
            )
        code = gr.Textbox(label=T(f"{label}: latent code (posterior mean)"), interactive=False)
        note = gr.Markdown()
    return index, use_digit, sketch, upload, prepared, reconstruction, code, note


def build(demo: gr.Blocks, registry: Registry) -> tuple[gr.Dropdown, gr.Dropdown]:
    """The VAE tab's widgets and events, inside `demo`; returns its VAE and VQ-VAE model pickers."""
    tab = VAETab(registry)
    names = registry.names("vae")
    heavy = IMAGES
    raw = {"preprocess": False, **heavy}  # handlers check raw values themselves; files are still cache-checked
    with gr.Tab(T("VAE"), id="VAE") as tab_block:
        gr.Markdown(T("vae.intro"))
        model = gr.Dropdown(names, value=names[0] if names else None, label=T("Model"))
        model_info = gr.Markdown()
        with gr.Row():
            a = _digit_input("A", 0)
            b = _digit_input("B", 7)
        with gr.Row():
            steps = gr.Slider(2, MAX_STEPS, 10, step=1, label=T("Steps"))
            mode = gr.Radio([(T(m), m) for m in MODES], value="linear (lerp)", label=T("Path"))
            show_crossfade = gr.Checkbox(True, label=T("Show the pixel cross-fade too"))
            walk = gr.Button(T("Interpolate A → B"), variant="primary")
        walk_strip = gr.Image(
            label=T("Latent interpolation"), type="numpy", format="png", interactive=False, elem_id="vae-strip"
        )
        fade_strip = gr.Image(label=T("Pixel cross-fade (for contrast)"), type="numpy", format="png", interactive=False)
        with gr.Row():
            walk_gif = gr.Image(
                label=T("Animated GIF"), type="filepath", interactive=False, buttons=["download"], elem_id="vae-gif"
            )
            walk_info = gr.Markdown()
        with gr.Accordion(T("Latent map (2-D model)"), open=True):
            with gr.Row():
                cells = gr.Slider(2, MAX_MAP_CELLS, 15, step=1, label=T("Map size (cells per side)"))
                draw_map = gr.Button(T("Draw the map"))
            with gr.Row():
                map_image = gr.Image(
                    format="png",
                    label=T("Click a point to decode it"),
                    type="numpy",
                    interactive=False,
                    elem_id="vae-map",
                )
                with gr.Column():
                    point_image = gr.Image(
                        format="png", label=T("Decoded point"), type="numpy", height=200, interactive=False
                    )
                    point_info = gr.Markdown()
            map_info = gr.Markdown()
        with gr.Accordion(T("Explore around A and sample the prior"), open=False):
            offsets = [
                gr.Slider(-EXPLORE_LIMIT, EXPLORE_LIMIT, 0.0, step=0.1, label=T(f"z{i + 1} offset"))
                for i in range(EXPLORE_DIMS)
            ]
            with gr.Row():
                explore_image = gr.Image(
                    format="png", label=T("A moved in latent space"), type="numpy", height=200, interactive=False
                )
                explore_info = gr.Markdown()
            with gr.Row():
                seed = gr.Number(0, label=T("Prior seed"), precision=0, minimum=0, maximum=MAX_SEED)
                count = gr.Slider(1, 64, 16, step=1, label=T("Samples"))
                sample = gr.Button(T("Sample from the prior"))
            prior_image = gr.Image(format="png", label=T("Prior samples"), type="numpy", interactive=False)
            prior_info = gr.Markdown()
        with gr.Accordion(T("Refine A's code (the amortization gap)"), open=False):
            refine = gr.Button(T("Refine A's code: 50 gradient steps on its own ELBO"))
            with gr.Row():
                refine_image = gr.Image(
                    format="png",
                    label=T("Input A · from the encoder's code · from the refined code"),
                    type="numpy",
                    height=200,
                    interactive=False,
                    elem_id="vae-refine",
                )
                refine_info = gr.Markdown()

        register(demo, {"tab.VAE": tab_block, "vae.model": model})
        model.change(friendly(tab.model_info), model, model_info, api_name="vae_model_info", preprocess=False)
        demo.load(with_session(lambda: gr.update(choices=registry.names("vae"))), None, model, api_visibility="private")
        demo.load(friendly(tab.model_info, kind="page"), model, model_info, api_visibility="private", preprocess=False)
        for name, (index, use_digit, sketch, upload, prepared, reconstruction, code, note) in (("a", a), ("b", b)):
            encode_step = {
                "fn": friendly(tab.encode_one),
                "inputs": [model, prepared],
                "outputs": [reconstruction, code],
            }
            encoded = gr.on(
                [use_digit.click, index.submit],
                friendly(tab.prepare_digit),
                index,
                [prepared, note],
                api_name=f"vae_digit_{name}",
                preprocess=False,
            ).then(**encode_step, api_visibility="private", preprocess=False, **heavy)
            then_describe(encoded, prepared, reconstruction)
            encoded = sketch.change(
                friendly(tab.prepare_sketch),
                sketch,
                [prepared, note],
                api_name=f"vae_sketch_{name}",
                trigger_mode="always_last",
            ).then(**encode_step, api_visibility="private", preprocess=False, **heavy)
            then_describe(encoded, prepared, reconstruction)
            encoded = upload.upload(
                friendly(tab.prepare_upload), upload, [prepared, note], api_name=f"vae_upload_{name}", preprocess=False
            ).then(**encode_step, api_visibility="private", preprocess=False, **heavy)
            then_describe(encoded, prepared, reconstruction)
            encoded = demo.load(
                friendly(tab.prepare_digit, kind="page"), index, [prepared, note], api_visibility="private",
                preprocess=False,
            ).then(**{**encode_step, "fn": friendly(tab.encode_one, kind="page")}, api_visibility="private",
                   preprocess=False, **heavy)  # fmt: skip
            then_describe(encoded, prepared, reconstruction)
        for side in (a, b):
            encoded = model.change(
                friendly(tab.encode_one), [model, side[4]], [side[5], side[6]], api_visibility="private", **raw
            )
            then_describe(encoded, side[5])
        image_a, image_b = a[4], b[4]
        gr.Button("", visible=False).click(  # an API-only endpoint (never shown: no text): encode any prepared image
            friendly(tab.encode_one), [model, image_a], [a[5], a[6]], api_name="vae_encode", **raw
        )
        refined = refine.click(
            friendly(tab.refine), [model, image_a], [refine_image, refine_info], api_name="vae_refine", **raw
        )
        then_describe(refined, refine_image)
        walked = walk.click(
            friendly(tab.interpolate),
            [model, image_a, image_b, steps, mode, show_crossfade],
            [walk_strip, walk_gif, fade_strip, walk_info],
            api_name="vae_interpolate",
            **raw,
        )
        then_describe(walked, walk_strip, walk_gif, fade_strip)
        mapped = draw_map.click(
            friendly(tab.map),
            [model, image_a, image_b, cells],
            [map_image, map_info],
            api_name="vae_latent_map",
            **raw,
        )
        then_describe(mapped, map_image)
        clicked = map_image.select(
            friendly(tab.map_click), [model, cells], [point_image, point_info], api_visibility="private", **raw
        )
        then_describe(clicked, point_image)
        hidden_z1, hidden_z2 = gr.Number(visible=False), gr.Number(visible=False)
        decoded = gr.Button("", visible=False).click(
            friendly(tab.decode_point),
            [model, hidden_z1, hidden_z2],
            [point_image, point_info],
            api_name="vae_decode_point",
            **raw,
        )
        then_describe(decoded, point_image)
        explored = gr.on(
            [o.release for o in offsets],
            friendly(tab.explore),
            [model, image_a, *offsets],
            [explore_image, explore_info],
            api_name="vae_explore",
            **raw,
        )
        then_describe(explored, explore_image)
        sampled = sample.click(
            friendly(tab.prior), [model, seed, count], [prior_image, prior_info], api_name="vae_prior", **raw
        )
        then_describe(sampled, prior_image)

        learn_panel(
            "vae",
            [
                (
                    reparameterize,
                    "The reparameterisation trick: z = μ + σ·ε, with the noise drawn outside the network.",
                ),
                (kl_divergence, "The KL term of two Gaussians, in closed form."),
                (
                    VAE.posterior_sample,
                    "vae-2d's richer posterior: the Gaussian sample moved by affine coupling steps (a normalizing "
                    "flow), each step lowering log q(z|x) by its log-determinant; its KL term is then log q(z|x) - "
                    "log p(z) at the sample, not the closed form.",
                ),
                (
                    VAE.log_prior,
                    "vae-16d's learned prior: N(0, I) pushed through affine coupling steps (a flow prior), whose "
                    "density is read by undoing each step; it follows the shape the codes of real digits take, so "
                    "the KL term costs less.",
                ),
                (vae_losses, "The loss the VAE trainer minimises: reconstruction plus β times KL (the negative ELBO)."),
            ],
        )
        experiments = ExperimentPanel("vae", vae_experiments(registry), IMAGES)
        experiments.wire(demo)
        register(demo, {"experiment.vae": experiments.picker, "experiment_box.vae": experiments.box})
        vq_model = vqvae.build_section(demo, registry)
    return model, vq_model


if __name__ == "__main__":
    with gr.Blocks(title="GenLab VAE") as standalone:
        build(standalone, Registry())
    standalone.queue(max_size=64).launch()
