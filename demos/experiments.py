"""The one-click experiments of the GAN, VAE and Text tabs (issue 12): each runs a genmodels.experiments comparison
on the shipped models with a fixed seed (the outcome each explanation promises is tested there) and turns it into a
picture, a plot and a result paragraph in the request's language."""

import functools

import pandas as pd
import torch

from genmodels import experiments as ex
from genmodels.data import load_shakespeare, mnist_splits, to_signed
from genmodels.imaging import ellipses, grid, side_by_side, stacked, strip
from genmodels.registry import Registry
from genmodels.vae_pipeline import MAP_EXTENT, latent_map, map_position

from .i18n import tr
from .learn import Experiment, Outcome

SEED = 3  # the seed every experiment uses: the outcomes are measured for it in tests/test_experiments.py
UNIT = (0.0, 1.0)
PROMPT = "The old lighthouse keeper opened the door and"
LOOP_PROMPT = "I like cats. I like dogs. I like"


@functools.cache
def _held_out():
    return mnist_splits()[1]


def _held_out_unit(count: int, start: int = 0) -> torch.Tensor:
    return _held_out().images[start : start + count].float().unsqueeze(1) / 255


def _meter_line(meter: dict) -> str:
    return tr(
        "class entropy {entropy:.2f} bits (of 3.32) · Inception score {score:.2f}",
        entropy=meter["entropy_bits"],
        score=meter["inception_score"],
    )


def _histogram(series: str, meter: dict) -> pd.DataFrame:
    return pd.DataFrame({"label": [str(d) for d in range(10)], "value": meter["histogram"], "series": series})


def _walk_and_fade(result: ex.WalkAndFade) -> Outcome:
    """The latent walk above the pixel cross-fade, with the half-tone share of each middle frame's ink."""
    picture = stacked([strip(result.walk, scale=2, value_range=UNIT), strip(result.fade, scale=2, value_range=UNIT)])
    text = tr(
        "Top: the latent walk; bottom: the pixel cross-fade. Half-tone share of the ink in the middle frame: "
        "walk {walk:.0%}, fade {fade:.0%} (real handwritten digits: about 25-35%).",
        walk=result.walk_half_tone[len(result.walk) // 2],
        fade=result.fade_half_tone[len(result.fade) // 2],
    )
    return Outcome(text, picture)


def gan_experiments(registry: Registry) -> list[Experiment]:
    def gan():
        return registry.load("gan-mnist", "gan")

    def judge():
        return registry.load("mnist-classifier", "classifier")

    def truncation():
        low, full = ex.truncation_pair(gan(), judge(), SEED, count=64)
        picture = side_by_side([grid(low.images, columns=8, scale=2), grid(full.images, columns=8, scale=2)])
        result = tr(
            "Seed {seed}, 64 samples each. Left, ψ 0.5: {low}. Right, ψ 1.0: {full}.",
            seed=SEED,
            low=_meter_line(low.meter),
            full=_meter_line(full.meter),
        )
        bars = pd.concat([_histogram("ψ 0.5", low.meter), _histogram("ψ 1.0", full.meter)])
        return Outcome(result, picture, bars=bars)

    def paths():
        result = ex.lerp_versus_slerp(gan(), 1, 2, frames=9)
        picture = stacked([strip(result.images["lerp"], scale=2), strip(result.images["slerp"], scale=2)])
        t = [round(i / 8, 3) for i in range(9)]
        lines = pd.concat(
            [
                pd.DataFrame({"x": t, "value": result.norms["lerp"], "series": "lerp |z|"}),
                pd.DataFrame({"x": t, "value": result.norms["slerp"], "series": "slerp |z|"}),
                pd.DataFrame({"x": t, "value": [round(result.shell, 3)] * 9, "series": "√d"}),
            ]
        )
        text = tr(
            "Seeds 1 to 2, 9 frames. Top: lerp, |z| from {start:.2f} down to {low:.2f} and back to {end:.2f}. "
            "Bottom: slerp, |z| stays between {start:.2f} and {end:.2f}. The prior's shell: √d = {shell:.2f}.",
            start=result.norms["lerp"][0],
            low=min(result.norms["lerp"]),
            end=result.norms["lerp"][-1],
            shell=result.shell,
        )
        return Outcome(text, picture, lines=lines)

    def walk_fade():
        result = ex.gan_walk_versus_fade(gan(), 1, 2, frames=9)
        return _walk_and_fade(result)

    def discriminator():
        held = _held_out()
        result = ex.discriminator_real_versus_fake(gan(), to_signed(held.images), held.labels, SEED, count=64)
        real = grid(result.real[:16], columns=4, captions=[f"{s:+.1f}" for s in result.real_scores[:16]])
        fake = grid(result.fake[:16], columns=4, captions=[f"{s:+.1f}" for s in result.fake_scores[:16]])
        mean_real = sum(result.real_scores) / len(result.real_scores)
        mean_fake = sum(result.fake_scores) / len(result.fake_scores)
        text = tr(
            "Left: 16 held-out real digits; right: 16 generated ones (seed {seed}). Mean discriminator score over "
            "64 of each: real {real:+.2f}, generated {fake:+.2f}.",
            seed=SEED,
            real=mean_real,
            fake=mean_fake,
        )
        bars = pd.DataFrame(
            {"label": [tr("real"), tr("generated")], "value": [mean_real, mean_fake], "series": [tr("mean score")] * 2}
        )
        return Outcome(text, side_by_side([real, fake]), bars=bars)

    return [
        Experiment("gan.truncation", 3, 1, truncation, ("picture", "bars")),
        Experiment("gan.paths", 3, 1, paths, ("picture", "lines")),
        Experiment("gan.walk_fade", 3, 1, walk_fade),
        Experiment("gan.discriminator", 3, 1, discriminator, ("picture", "bars")),
    ]


def vae_experiments(registry: Registry) -> list[Experiment]:
    def judge():
        return registry.load("mnist-classifier", "classifier")

    def beta():
        images = _held_out_unit(8)
        one = ex.beta_result(registry.load("vae-16d", "vae"), images, SEED, count=8)
        four = ex.beta_result(registry.load("vae-16d-beta4", "vae"), images, SEED, count=8)
        rows = [images, one.reconstructions, four.reconstructions, one.samples, four.samples]
        picture = stacked([strip(row, scale=2, value_range=UNIT) for row in rows])
        text = tr(
            "Rows: 8 held-out digits; β = 1 reconstructions; β = 4 reconstructions; β = 1 prior samples; β = 4 prior "
            "samples (seed {seed}). KL per digit: β = 1 {kl_one:.1f} nats, β = 4 {kl_four:.1f} nats. Squared "
            "pixel error per digit: β = 1 {error_one:.1f}, β = 4 {error_four:.1f}.",
            seed=SEED,
            kl_one=one.kl_nats,
            kl_four=four.kl_nats,
            error_one=one.squared_error,
            error_four=four.squared_error,
        )
        bars = pd.DataFrame(
            {
                "label": ["KL", "KL", tr("error"), tr("error")],
                "value": [one.kl_nats, four.kl_nats, one.squared_error, four.squared_error],
                "series": ["β = 1", "β = 4", "β = 1", "β = 4"],
            }
        )
        return Outcome(text, picture, bars=bars)

    def posterior_ellipses():
        vae = registry.load("vae-2d", "vae")
        images = _held_out_unit(10)
        labels = _held_out().labels[:10].tolist()
        result = ex.posteriors(vae, images)
        picture = grid(latent_map(vae, 15), columns=15, scale=1, padding=0, value_range=UNIT)
        size = picture.shape[0]
        shapes = []
        for mean, sigma, label in zip(result.means, result.sigmas, labels, strict=True):
            x, y = map_position(mean, size)
            pixels = size / (2 * MAP_EXTENT)
            shapes.append((x, y, max(float(sigma[0]) * pixels, 1.5), max(float(sigma[1]) * pixels, 1.5), str(label)))
        x0, y0 = map_position(torch.zeros(2), size)
        shapes.append((x0, y0, size / (2 * MAP_EXTENT), size / (2 * MAP_EXTENT), "p(z)"))
        text = tr(
            "The 2-D latent map of vae-2d with 10 held-out digits: each dot is a posterior mean, each ellipse one "
            "standard deviation (drawn at least 1.5 pixels wide); the large circle is the prior's σ = 1. Largest "
            "posterior σ: {sigma:.3f}.",
            sigma=float(result.sigmas.max()),
        )
        return Outcome(text, ellipses(picture, shapes))

    def walk_fade():
        images = _held_out_unit(2)
        result = ex.vae_walk_versus_fade(registry.load("vae-16d", "vae"), images[0], images[1], frames=9)
        return _walk_and_fade(result)

    def far_out():
        result = ex.far_outside_prior(registry.load("vae-16d", "vae"), judge(), SEED)
        picture = grid(result.images, columns=6, scale=2, value_range=UNIT)
        text = tr(
            "Rows: the same 6 directions at 1, 2, 4 and 8 times the prior's typical radius √d. Judge's confidence "
            "per row: {confidence}. Half-tone share of the ink: {half_tone}. log p(z): {log_prior} nats.",
            confidence=" · ".join(f"{v:.2f}" for v in result.confidence),
            half_tone=" · ".join(f"{v:.0%}" for v in result.half_tone),
            log_prior=" · ".join(f"{v:.0f}" for v in result.log_prior),
        )
        lines = pd.DataFrame(
            {"x": result.radii * 2, "value": result.confidence + result.half_tone,
             "series": [tr("judge's confidence")] * 4 + [tr("half-tone share")] * 4}
        )  # fmt: skip
        return Outcome(text, picture, lines=lines)

    return [
        Experiment("vae.beta", 3, 1, beta, ("picture", "bars")),
        Experiment("vae.ellipses", 3, 1, posterior_ellipses),
        Experiment("vae.walk_fade", 3, 1, walk_fade),
        Experiment("vae.far_out", 3, 1, far_out, ("picture", "lines")),
    ]


def _quoted(text: str) -> str:
    return "> " + text.strip().replace("\n", "\n> ") if text.strip() else "> …"


def text_experiments(text_models) -> list[Experiment]:
    def smollm():
        return text_models.load("smollm2-135m-instruct")

    def temperature():
        cold, hot = ex.temperature_pair(smollm(), PROMPT, SEED, tokens=40)
        text = tr(
            "SmolLM2, prompt “{prompt}”, seed {seed}, 40 tokens.\n\n**T = 0.2** (mean log-probability of its tokens "
            "under the model: {cold:.2f} nats)\n\n{cold_text}\n\n**T = 1.5** ({hot:.2f} nats)\n\n{hot_text}",
            prompt=PROMPT,
            seed=SEED,
            cold=cold.mean_log_probability,
            hot=hot.mean_log_probability,
            cold_text=_quoted(cold.text),
            hot_text=_quoted(hot.text),
        )
        bars = pd.DataFrame(
            {"label": ["T = 0.2", "T = 1.5"], "value": [cold.mean_log_probability, hot.mean_log_probability],
             "series": [tr("mean log-probability")] * 2}
        )  # fmt: skip
        return Outcome(text, bars=bars)

    def top_p():
        model = smollm()
        half, full = ex.nucleus_cut(model, PROMPT, 0.5), ex.nucleus_cut(model, PROMPT, 1.0)
        removed = ", ".join(f"`{token.strip() or repr(token)}` {p:.1%}" for token, p in half.removed)
        text = tr(
            "SmolLM2, prompt “{prompt}”, the next token. top-p 0.5 keeps {kept} of {vocabulary:,} tokens "
            "({mass:.0%} of the probability); top-p 1.0 keeps all {full:,}. The most likely tokens top-p 0.5 "
            "removed: {removed}.",
            prompt=PROMPT,
            kept=half.kept,
            vocabulary=half.vocabulary,
            mass=half.kept_mass,
            full=full.kept,
            removed=removed,
        )
        bars = pd.DataFrame(
            {"label": [token.strip() or repr(token) for token, _ in half.removed],
             "value": [p for _, p in half.removed], "series": [tr("removed by top-p 0.5")] * len(half.removed)}
        )  # fmt: skip
        return Outcome(text, bars=bars)

    def repetition():
        greedy, penalised = ex.repetition_pair(smollm(), LOOP_PROMPT, penalty=1.3, tokens=50)
        text = tr(
            "SmolLM2, prompt “{prompt}”, greedy decoding, 50 tokens.\n\n**Repetition penalty 1.0** (repeated "
            "4-token windows: {loop:.0%})\n\n{loop_text}\n\n**Repetition penalty 1.3** ({free:.0%})\n\n{free_text}",
            prompt=LOOP_PROMPT,
            loop=greedy.repeated_4grams,
            free=penalised.repeated_4grams,
            loop_text=_quoted(greedy.text),
            free_text=_quoted(penalised.text),
        )
        return Outcome(text)

    def two_models():
        prompt = "ROMEO:\nThe night is"
        result = ex.characters_versus_tokens(
            [text_models.load("chargpt-shakespeare"), smollm()], [prompt, prompt], SEED, 60, load_shakespeare()
        )
        text = tr(
            "Prompt “{prompt}”, 60 steps each, temperature 0.8.\n\n**chargpt-shakespeare** ({char_rate:.1f} "
            "characters per step; words Shakespeare never wrote: {invented})\n\n{char_text}\n\n**SmolLM2** "
            "({token_rate:.1f} characters per step)\n\n{token_text}",
            prompt=prompt.replace("\n", " "),
            char_rate=result.characters_per_step[0],
            token_rate=result.characters_per_step[1],
            invented=", ".join(result.invented_words[0]) or tr("none"),
            char_text=_quoted(result.texts[0]),
            token_text=_quoted(result.texts[1]),
        )
        bars = pd.DataFrame(
            {"label": ["chargpt-shakespeare", "SmolLM2"], "value": result.characters_per_step,
             "series": [tr("characters per step")] * 2}
        )  # fmt: skip
        return Outcome(text, bars=bars)

    return [
        Experiment("text.temperature", 3, 0, temperature, ("bars",)),
        Experiment("text.top_p", 3, 1, top_p, ("bars",)),
        Experiment("text.repetition", 3, 1, repetition, ()),
        Experiment("text.two_models", 3, 1, two_models, ("bars",)),
    ]


# The fill-the-blanks experiments (issue 16): a blank only the right side explains, and one at a line's start.
RIGHT_CONTEXT = ("A man well _nown throughout all Italy.", "k")  # a held-out line of Tiny Shakespeare
LINE_START = ("First Citizen:\nWe are accounted poor citizens.\n\n_ll:\nSpeak, speak.", "A")


def _blank_outcome(reading: ex.BlankReading) -> Outcome:
    from genmodels.fill import shown

    def listed(pairs):
        return ", ".join(f"`{shown(c)}` {p:.0%}" for c, p in pairs[:3])

    text = tr(
        "Text: “{text}”; the hidden character is `{answer}`.\n\n**Masked model (both sides):** {both} · the right "
        "character {both_answer:.1%}\n\n**char-GPT (left only):** {left} · the right character {left_answer:.1%}",
        text=reading.text.replace("\n", " ↵ "),
        answer=shown(reading.answer),
        both=listed(reading.both),
        both_answer=reading.both_answer,
        left=listed(reading.left),
        left_answer=reading.left_answer,
    )
    bars = pd.DataFrame(
        {"label": [tr("masked model (both sides)"), tr("char-GPT (left only)")],
         "value": [reading.both_answer, reading.left_answer], "series": [tr("probability of the right character")] * 2}
    )  # fmt: skip
    return Outcome(text, bars=bars)


def fill_experiments(text_models) -> list[Experiment]:
    registry = text_models.registry

    def reading(example):
        masked = registry.load("maskedlm-shakespeare", "maskedlm")
        gpt = registry.load("chargpt-shakespeare", "chargpt")
        return _blank_outcome(ex.read_blank(masked, gpt, *example))

    return [
        Experiment("fill.right_context", 4, 0, lambda: reading(RIGHT_CONTEXT), ("bars",)),
        Experiment("fill.line_start", 4, 0, lambda: reading(LINE_START), ("bars",)),
    ]


def diffusion_experiments(registry: Registry) -> list[Experiment]:
    def model():
        return registry.load("diffusion-mnist", "diffusion")

    def judge():
        return registry.load("mnist-classifier", "classifier")

    def _line(result: ex.DiffusionSamples) -> str:
        return tr(
            "read as the digit asked for {accuracy:.0%} · half-tone share of the ink {half_tone:.1%} · pixel distance "
            "between two samples of the same digit {distance:.1f}",
            accuracy=result.class_accuracy,
            half_tone=result.half_tone,
            distance=result.within_class_distance,
        )

    def steps():
        few, many = ex.steps_pair(model(), judge(), SEED, steps=(2, 50), count=20)
        picture = side_by_side(
            [grid(few.images[:20], columns=10, scale=2), grid(many.images[:20], columns=10, scale=2)]
        )
        text = tr(
            "Seed {seed}, the same noise, 20 samples (digits 0-9 in turn), DDIM, guidance 2. Left, 2 steps: {few}. "
            "Right, 50 steps: {many}.",
            seed=SEED,
            few=_line(few),
            many=_line(many),
        )
        bars = pd.DataFrame(
            {"label": [tr("class accuracy"), tr("half-tone share of the ink")] * 2,
             "value": [few.class_accuracy, few.half_tone, many.class_accuracy, many.half_tone],
             "series": [tr("2 steps")] * 2 + [tr("50 steps")] * 2}
        )  # fmt: skip
        return Outcome(text, picture, bars=bars)

    def guidance():
        free, guided = ex.guidance_pair(model(), judge(), SEED, scales=(0.0, 3.0), count=40)
        picture = side_by_side(
            [grid(free.images[:30], columns=10, scale=2), grid(guided.images[:30], columns=10, scale=2)]
        )
        text = tr(
            "Seed {seed}, the same noise, 40 samples (digits 0-9 in turn), 20 DDIM steps. Left, guidance 0: {free}. "
            "Right, guidance 3: {guided}.",
            seed=SEED,
            free=_line(free),
            guided=_line(guided),
        )
        bars = pd.concat([_histogram(tr("guidance 0"), free.meter), _histogram(tr("guidance 3"), guided.meter)])
        return Outcome(text, picture, bars=bars)

    def kinds():
        from genmodels.diffusion import default_guidance

        autoguidance = default_guidance(True)[1]
        free, cfg, auto = ex.guidance_kinds(
            model(), registry.guide("diffusion-mnist"), judge(), SEED, count=40, cfg=3.0, autoguidance=autoguidance
        )
        picture = stacked([grid(result.images[:20], columns=20, scale=2) for result in (free, cfg, auto)])
        text = tr(
            "Seed {seed}, the same noise, 40 samples (digits 0-9 in turn), 20 DDPM steps. Top, no guidance: {free}. "
            "Middle, classifier-free guidance 3: {cfg}. Bottom, autoguidance {autoguidance:g}: {auto}.",
            seed=SEED,
            free=_line(free),
            cfg=_line(cfg),
            auto=_line(auto),
            autoguidance=autoguidance,
        )
        names = [tr("no guidance"), tr("classifier-free guidance 3"), tr("autoguidance")]
        bars = pd.DataFrame(
            {
                "label": [tr("class accuracy"), tr("variety within a digit, against no guidance")] * 3,
                "value": [
                    value
                    for result in (free, cfg, auto)
                    for value in (result.class_accuracy, result.within_class_distance / free.within_class_distance)
                ],
                "series": [name for name in names for _ in range(2)],
            }
        )
        return Outcome(text, picture, bars=bars)

    def samplers():
        result = ex.sampler_pair(model(), judge(), SEED, steps=30, count=30)
        picture = stacked(
            [
                grid(result.ddim.images[:20], columns=20, scale=2),
                grid(result.ddpm.images[:20], columns=20, scale=2),
            ]
        )
        identical = bool(torch.equal(result.ddim.images, result.ddim_again.images))
        text = tr(
            "Seed {seed}: the same 30 starting noises, no class given, guidance 0, 30 steps. Top: DDIM; bottom: DDPM. "
            "The judge reads the same digit in {same:.0%} of the pairs (unrelated samples would agree in about "
            "{chance:.0%}). DDIM run again gives {again}.",
            seed=SEED,
            same=result.same_digit,
            chance=result.chance,
            again=tr("exactly the same images") if identical else tr("different images"),
        )
        bars = pd.DataFrame(
            {"label": [tr("same digit under both samplers"), tr("unrelated samples")],
             "value": [result.same_digit, result.chance], "series": [tr("share of pairs")] * 2}
        )  # fmt: skip
        return Outcome(text, picture, bars=bars)

    def forward():
        from genmodels.diffusion_pipeline import forward_process

        held = _held_out()
        times = [0, 250, 500, 750, 999]
        rows = []
        shares = []
        for index in range(4):
            result = forward_process(model(), to_signed(held.images[index : index + 1]), times, SEED)
            rows.append(strip(result.noisy.clamp(-1, 1), scale=2))
            shares = [s * s for s in result.signal]
        text = tr(
            "Four held-out digits noised at t = {times}. The share of x_t's variance that is still the digit: "
            "{shares}.",
            times=", ".join(map(str, times)),
            shares=", ".join(f"{s:.1%}" for s in shares),
        )
        lines = pd.DataFrame({"x": times, "value": [round(s, 4) for s in shares], "series": tr("signal share")})
        return Outcome(text, stacked(rows, gap=4), lines=lines)

    return [
        Experiment("diffusion.steps", 3, 1, steps, ("picture", "bars")),
        Experiment("diffusion.guidance", 3, 0, guidance, ("picture", "bars")),
        Experiment("diffusion.autoguidance", 3, 0, kinds, ("picture", "bars")),
        Experiment("diffusion.samplers", 3, 1, samplers, ("picture", "bars")),
        Experiment("diffusion.forward", 3, 0, forward, ("picture", "lines")),
    ]
