"""The Text tab: streaming continuation with sampling controls, the next-token distribution, and surprise."""

import json
import math
import time

import gradio as gr
import pandas as pd

from genmodels.lm import MAX_NEW_TOKENS, TOP_CANDIDATES, CharModel, continue_text, fit_prompt, token_log_probabilities
from genmodels.registry import UnknownModel
from genmodels.sampling import MAX_SEED
from genmodels.text_models import TextModels
from genmodels.textgen import MAX_TEMPERATURE, SamplingSettings, choose, next_token_distribution, penalize_repetition

from . import fill, scoring
from .common import (
    TEXT,
    Notices,
    UserError,
    clean_text,
    flag,
    friendly,
    integer,
    log,
    number,
    register,
    with_session,
    within_lesson,
)
from .experiments import text_experiments
from .i18n import T, both, tr, translate_message
from .learn import ExperimentPanel, learn_panel

MAX_PROMPT_CHARACTERS = 20_000  # longer prompts keep their end: only the last context window matters anyway
MAX_ALTERNATIVES = 3
EXAMPLES = [
    "Once upon a time, in a small village by the sea,",
    "The three most important ideas in machine learning are",
    "ROMEO:\nBut soft, what light",
    "def fibonacci(n):",
]
SURPRISE = {
    "expected (> 50%)": "#2e7d32",
    "plausible (10-50%)": "#9ccc65",
    "surprising (1-10%)": "#ffb300",
    "very surprising (< 1%)": "#e53935",
}
# A handler writes each category in the request's language (tr), so the page has a colour for both.
SURPRISE_COLORS = {text: color for label, color in SURPRISE.items() for text in both(label).values()}


def surprise_label(probability: float) -> str:
    if probability > 0.5:
        return "expected (> 50%)"
    if probability > 0.1:
        return "plausible (10-50%)"
    if probability > 0.01:
        return "surprising (1-10%)"
    return "very surprising (< 1%)"


def clean_prompt(prompt, notices: Notices) -> str:
    """A printable prompt (see clean_text), very long prompts cut from the start; an empty one is refused."""
    kept = clean_text(prompt, "The prompt", notices, MAX_PROMPT_CHARACTERS)
    if not kept.strip():
        raise UserError(tr("Write a prompt first: the model continues your text."))
    return kept


LOAD_WAIT_LIMIT_SECONDS = 300  # a Generate that finds the model still loading waits at most this long
LOAD_POLL_SECONDS = 0.5


def status_line(name: str, status) -> str:
    """A sentence for the page: is the model ready, and if not, how long until it should be."""
    if status.state in ("ready", "absent"):
        return ""
    message = translate_message(status.message)
    if status.state == "failed":
        return tr("⚠️ **{name}** {message}. The other models work.", name=name, message=message)
    left = max(status.expected_seconds - status.elapsed_seconds, 1.0)
    progress = min(status.elapsed_seconds / max(status.expected_seconds, 1e-9), 0.99)
    return tr(
        "⏳ **{name}** is getting ready: {message}. {elapsed:.0f} s of about {expected:.0f} s ({percent:.0f}%); "
        "about {left:.0f} s left. Press Generate now and your text starts as soon as it is ready.",
        name=name,
        message=message,
        elapsed=status.elapsed_seconds,
        expected=status.expected_seconds,
        percent=100 * progress,
        left=left,
    )


class TextTab:
    def __init__(self, models: TextModels):
        self.models = models

    def wait_until_ready(self, name):
        """While `name` loads in the background: yield a status sentence every half second, until it is ready."""
        if not isinstance(name, str):
            return
        deadline = time.monotonic() + LOAD_WAIT_LIMIT_SECONDS
        while True:
            status = self.models.status(name)
            if status.state in ("ready", "absent"):
                return
            if status.state == "failed" or time.monotonic() > deadline:
                raise UserError(
                    tr("{name} {message}. Pick another model.", name=name, message=translate_message(status.message))
                )
            yield status_line(name, status)
            time.sleep(LOAD_POLL_SECONDS)

    def status(self, name):
        """The model's readiness as JSON (state, message, seconds elapsed and expected, the decode path)."""
        if not isinstance(name, str) or name not in self.models.names():
            raise UserError(tr("Unknown language model."))
        status = self.models.status(name)
        report = self.models.kernel_report(name)
        answer = {
            "model": name,
            "state": status.state,
            "message": status.message,
            "elapsed_seconds": round(status.elapsed_seconds, 2),
            "expected_seconds": round(status.expected_seconds, 2),
            "ready_wall_time": status.ready_wall_time,
        }
        if report is not None:
            answer["decode_path"] = report.kernel
            answer["decode_tokens_per_second"] = {k: round(v, 1) for k, v in report.tokens_per_second.items()}
            answer["rejected_paths"] = report.rejected
            answer["decode_path_remembered"] = report.remembered  # measured at an earlier start on this machine
        return json.dumps(answer)

    def status_banner(self, name):
        """The page's status line, and whether the timer that refreshes it should keep running."""
        status = self.models.status(name) if isinstance(name, str) else None
        if status is None:
            return "", gr.Timer(active=False)
        return status_line(name, status), gr.Timer(active=status.state not in ("ready", "absent", "failed"))

    def _model(self, name):
        within_lesson("text.model", name)
        try:
            return self.models.load(name)
        except UnknownModel as error:
            raise UserError(tr("Unknown language model: {error}.", error=translate_message(str(error)))) from None

    @staticmethod
    def _settings(temperature, top_k, top_p, repetition_penalty, notices: Notices) -> SamplingSettings:
        temperature = number(temperature, "Temperature", 0.0, MAX_TEMPERATURE, notices)
        within_lesson("text.temperature", temperature)
        return SamplingSettings(
            temperature=temperature,
            top_k=integer(top_k, "Top-k", 0, 1000, notices),
            top_p=number(top_p, "Top-p", 0.01, 1.0, notices),
            repetition_penalty=number(repetition_penalty, "Repetition penalty", 1.0, 3.0, notices),
        )

    def _prompt_ids(self, name, model, prompt: str, use_chat, max_new_tokens: int, notices: Notices):
        if flag(use_chat, "Chat template"):
            if not self.models.is_chat_model(name):
                notices.add(tr("{name} has no chat template; continuing the plain text.", name=name))
            else:
                prompt = self.models.chat_prompt(name, prompt)
        if isinstance(model, CharModel):
            vocabulary = set(model.model.config.vocab)
            known = "".join(c for c in prompt if c in vocabulary)
            if len(known) != len(prompt):
                notices.add(
                    tr(
                        "Dropped {count} characters this model never saw in training.",
                        count=len(prompt) - len(known),
                    )
                )
            if not known:
                raise UserError(tr("None of the prompt's characters are in this model's vocabulary."))
            prompt = known
        ids, cut = fit_prompt(model, prompt, max_new_tokens)
        if cut:
            notices.add(
                tr("The prompt was longer than the context window; its first {count:,} tokens were dropped.", count=cut)
            )
        return ids

    def _request(
        self, name, prompt, max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed, alternatives, use_chat
    ):
        notices = Notices()
        model = self._model(name)
        prompt = clean_prompt(prompt, notices)
        max_new_tokens = integer(max_new_tokens, "Max new tokens", 1, MAX_NEW_TOKENS, notices)
        within_lesson("text.tokens", max_new_tokens)
        settings = self._settings(temperature, top_k, top_p, repetition_penalty, notices)
        seed = integer(seed, "Seed", 0, MAX_SEED, notices)
        alternatives = integer(alternatives, "Alternatives", 1, MAX_ALTERNATIVES, notices)
        ids = self._prompt_ids(name, model, prompt, use_chat, max_new_tokens, notices)
        return notices, model, ids, settings, max_new_tokens, seed, alternatives

    def generate(
        self, name, prompt, max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed, alternatives, use_chat
    ):
        """Stream 1-3 continuations token by token, then the surprise view and the prompt's perplexity."""
        for line in self.wait_until_ready(name):
            yield "", "", "", line, None
        notices, model, ids, settings, max_new_tokens, seed, alternatives = self._request(
            name, prompt, max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed, alternatives, use_chat
        )
        streams = [continue_text(model, ids, settings, max_new_tokens, seed + i) for i in range(alternatives)]
        texts = [""] * MAX_ALTERNATIVES
        first_events = []
        started, produced = time.perf_counter(), 0
        active = list(range(alternatives))
        finished = False
        try:
            while active:
                for index in list(active):
                    event = next(streams[index], None)
                    if event is None:
                        active.remove(index)
                        continue
                    texts[index] += event.text
                    produced += 1
                    if index == 0:
                        first_events.append(event)
                rate = produced / max(time.perf_counter() - started, 1e-9)
                yield (
                    *texts,
                    notices.markdown() + tr("{count} tokens, {rate:.1f} tokens/s", count=produced, rate=rate),
                    None,
                )
            finished = True
        finally:
            # A cancelled request (Stop, or a closed page) ends here at its next yield: nothing keeps running.
            log.info("text generation %s after %d tokens", "finished" if finished else "stopped", produced)
        surprise = [(e.text, tr(surprise_label(e.probability))) for e in first_events]
        rate = produced / max(time.perf_counter() - started, 1e-9)
        info = notices.markdown() + tr("{count} tokens, {rate:.1f} tokens/s", count=produced, rate=rate)
        if len(ids) >= 2:
            scores = token_log_probabilities(model, ids)
            info += tr(
                " · prompt perplexity {perplexity:.2f} over {count} tokens",
                perplexity=math.exp(-sum(scores) / len(scores)),
                count=len(ids),
            )
        yield *texts, info, surprise

    def complete(self, name, prompt, max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed, use_chat):
        """Non-streaming: the continuation and per-token statistics as JSON."""
        notices, model, ids, settings, max_new_tokens, seed, _ = self._request(
            name, prompt, max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed, 1, use_chat
        )
        started = time.perf_counter()
        events = list(continue_text(model, ids, settings, max_new_tokens, seed))
        seconds = time.perf_counter() - started
        statistics = {
            "prompt_tokens": len(ids),
            "new_tokens": len(events),
            "seconds": round(seconds, 4),
            "tokens": [{"id": e.token_id, "text": e.text, "probability": round(e.probability, 6)} for e in events],
            "notices": list(notices),
        }
        if len(ids) >= 2:
            scores = token_log_probabilities(model, ids)
            statistics["prompt_perplexity"] = round(math.exp(-sum(scores) / len(scores)), 4)
        return "".join(e.text for e in events), json.dumps(statistics)

    def next_token(self, name, prompt, continuation, step, temperature, top_k, top_p, repetition_penalty, use_chat):
        """The top candidates for one step of the continuation, before and after the sampling filters."""
        notices = Notices()
        model = self._model(name)
        prompt = clean_prompt(prompt, notices)
        continuation = clean_text(continuation, "The continuation", notices, MAX_PROMPT_CHARACTERS)
        settings = self._settings(temperature, top_k, top_p, repetition_penalty, notices)
        ids = self._prompt_ids(name, model, prompt, use_chat, 1, notices)
        generated = model.encode(continuation) if continuation else []
        step = integer(step, "Step", 0, max(len(generated), 1), notices)
        prefix = ids + generated[: (step - 1 if step else len(generated))]
        logits, _ = model.prefill(prefix[-model.context_length :])
        before, after = next_token_distribution(logits, settings, prefix)
        top = before.topk(min(TOP_CANDIDATES, before.numel())).indices.tolist()
        rows = []
        for token in top:
            label = repr(model.decode([token]))[1:-1] or "∅"
            rows.append({"token": label, "probability": float(before[token]), "distribution": tr("model")})
            rows.append(
                {"token": label, "probability": float(after[token]), "distribution": tr("after sampling filters")}
            )
        shown = step if step else len(generated) + 1
        return pd.DataFrame(rows), notices.markdown() + tr(
            "Candidates for token {index} of the continuation.", index=shown
        )


def build(demo: gr.Blocks, models: TextModels) -> gr.Dropdown:
    """The Text tab's widgets and events, inside `demo`; returns its model picker."""
    tab = TextTab(models)
    names = models.names()
    heavy = {**TEXT, "preprocess": False}
    with gr.Tab(T("Text"), id="Text") as tab_block:
        gr.Markdown(T("text.intro"))
        model_status = gr.Markdown(elem_id="text-model-status")
        status_timer = gr.Timer(1.0, active=True)
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                model = gr.Dropdown(names, value=names[0] if names else None, label=T("Model"), elem_id="text-model")
                prompt = gr.Textbox(
                    EXAMPLES[0], label=T("Prompt"), lines=4, max_length=MAX_PROMPT_CHARACTERS, elem_id="text-prompt"
                )
                gr.Examples(EXAMPLES, prompt, label=T("Examples"))
                use_chat = gr.Checkbox(False, label=T("Apply the chat template (instruct model)"))
                max_new_tokens = gr.Slider(1, MAX_NEW_TOKENS, 64, step=1, label=T("Max new tokens"))
                temperature = gr.Slider(0.0, MAX_TEMPERATURE, 0.8, step=0.05, label=T("Temperature (0 = greedy)"))
                top_k = gr.Slider(0, 200, 50, step=1, label=T("Top-k (0 = off)"))
                top_p = gr.Slider(0.05, 1.0, 0.95, step=0.01, label=T("Top-p"))
                repetition_penalty = gr.Slider(1.0, 2.0, 1.1, step=0.05, label=T("Repetition penalty (1 = off)"))
                with gr.Row():
                    seed = gr.Number(0, label=T("Seed"), precision=0, minimum=0, maximum=MAX_SEED)
                    alternatives = gr.Slider(1, MAX_ALTERNATIVES, 1, step=1, label=T("Alternatives"))
                with gr.Row():
                    run = gr.Button(T("Generate"), variant="primary", elem_id="text-generate")
                    stop = gr.Button(T("Stop"), variant="stop")
            with gr.Column(scale=2):
                with gr.Row():
                    outputs = [
                        gr.Textbox(label=T(f"Continuation {i + 1}"), lines=12, elem_id=f"text-out-{i + 1}")
                        for i in range(MAX_ALTERNATIVES)
                    ]
                info = gr.Markdown(elem_id="text-info")
                surprise = gr.HighlightedText(
                    label=T("Surprise: continuation 1 coloured by each token's probability"),
                    color_map=SURPRISE_COLORS,
                )
                with gr.Row():
                    step = gr.Slider(0, MAX_NEW_TOKENS, 0, step=1, label=T("Next-token view: step (0 = the last)"))
                    show_step = gr.Button(T("Show candidates"))
                chart = gr.BarPlot(
                    x="token",
                    y="probability",
                    color="distribution",
                    label=T("Top-10 next tokens"),
                    sort=None,
                    height=300,
                )
                chart_info = gr.Markdown()

        register(demo, {"tab.Text": tab_block, "text.model": model, "text.tokens": max_new_tokens,
                        "text.temperature": temperature})  # fmt: skip
        settings = [temperature, top_k, top_p, repetition_penalty]
        generation = run.click(
            friendly(tab.generate, kind="stream"),
            [model, prompt, max_new_tokens, *settings, seed, alternatives, use_chat],
            [*outputs, info, surprise],
            api_name="text_generate",
            **heavy,
        )
        stop.click(None, None, None, cancels=[generation])
        chart_inputs = [model, prompt, outputs[0], step, *settings, use_chat]
        gr.on(
            [show_step.click, *(s.release for s in settings)],
            friendly(tab.next_token),
            chart_inputs,
            [chart, chart_info],
            api_name="text_next_token",
            **heavy,
        )
        generation.success(
            friendly(tab.next_token), chart_inputs, [chart, chart_info], api_visibility="private", **heavy
        )
        hidden = gr.Textbox(visible=False)
        gr.Button("", visible=False).click(
            friendly(tab.complete, kind="stream"),
            [model, prompt, max_new_tokens, *settings, seed, use_chat],
            [outputs[0], hidden],
            api_name="text_complete",
            **heavy,
        )
        demo.load(with_session(lambda: gr.update(choices=models.names())), None, model, api_visibility="private")
        quick = {"concurrency_id": "text_status", "concurrency_limit": None, "queue": False}
        gr.on(
            [status_timer.tick, model.change, demo.load],
            with_session(tab.status_banner),  # within the request's language
            model,
            [model_status, status_timer],
            api_visibility="private",
            **quick,
        )
        gr.Button("", visible=False).click(
            friendly(tab.status), model, gr.Textbox(visible=False), api_name="text_status", **quick
        )

        learn_panel(
            "text",
            [
                (
                    next_token_distribution,
                    "One sampling step's filters: repetition penalty, temperature, top-k and top-p.",
                ),
                (penalize_repetition, "The repetition penalty (CTRL's rule)."),
                (choose, "Drawing one token from the filtered distribution with the request's own random generator."),
            ],
        )
        experiments = ExperimentPanel("text", text_experiments(models), TEXT)
        experiments.wire(demo)
        register(demo, {"experiment.text": experiments.picker, "experiment_box.text": experiments.box})
        fill.build_section(demo, models)
        scoring.build_section(demo, models, model)
    return model
