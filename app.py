"""GenLab: an interactive playground for generative models. `python app.py` starts it on 127.0.0.1:7860."""

import argparse
import copy
import ctypes
import logging
import os
import threading

import gradio as gr

from demos import diffusion, gan, lesson, scoreboard, text, training, vae
from demos.i18n import COOKIE, I18N, LANGUAGES, T
from genmodels.lessons import LessonError, available_lessons, load_lesson
from genmodels.registry import Registry
from genmodels.text_models import TextModels

QUEUE_SIZE = 64  # waiting requests beyond this get a clean "queue full" error
log = logging.getLogger("genlab")
SESSION_CAPACITY = 2_000  # browser sessions whose state is kept; bounded for a small Space
# 28x28 inputs are shown as crisp, enlarged pixels (the value stays the exact image the model sees).
CSS = """
.pixelated img { image-rendering: pixelated; width: 112px !important; height: 112px !important; }
/* A visible keyboard focus on every control (Gradio's theme leaves none on range sliders and radio choices). */
button:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible, a:focus-visible,
[tabindex]:focus-visible, label:has(input:focus-visible) {
    outline: 3px solid #1d4ed8 !important; outline-offset: 2px !important;
}
/* Text at WCAG AA contrast (4.5:1) or better: the selected tab and the footer's links. */
button[role=tab][aria-selected=true] { color: #1d4ed8 !important; }
footer, footer a, footer button, footer span { color: #374151 !important; opacity: 1 !important; }
#genlab-language { justify-content: flex-end; gap: 0.5rem; }
"""
# The page's language: Gradio's I18n picks the browser's; the English / 简体中文 buttons (or Gradio's own Settings)
# switch it in place. The page keeps a cookie in step with the language it shows, so the server writes results,
# notices and errors in that language too (demos/i18n.py). The choice is remembered in this browser.
JS = r"""() => {
  const cookie = (lang) => { document.cookie = 'COOKIE_NAME=' + lang + ';path=/;max-age=31536000;SameSite=Lax'; };
  window.genlabSetLocale = async (lang) => {
    try { localStorage.setItem('COOKIE_NAME', lang); } catch (e) {}
    cookie(lang);
    // Gradio's own changeLocale, from the module its page already loaded (the same instance: one module per URL).
    const core = performance.getEntriesByType('resource').map((e) => e.name).find((n) => /\/core-[^/]*\.js$/.test(n));
    if (core) { (await import(core)).changeLocale(lang); } else { console.warn('GenLab: cannot switch language here'); }
  };
  let saved = null;
  try { saved = localStorage.getItem('COOKIE_NAME'); } catch (e) {}
  if (saved && saved !== document.documentElement.lang) { window.genlabSetLocale(saved); }
  const sync = () => cookie(document.documentElement.lang || 'en');
  sync();
  new MutationObserver(sync).observe(document.documentElement, {attributes: true, attributeFilter: ['lang']});
}""".replace("COOKIE_NAME", COOKIE)
# Blue primary buttons with white text at 6.7:1 (the default orange gives 2.8:1), dark red Stop buttons.
THEME = gr.themes.Default(primary_hue="blue").set(
    button_primary_background_fill="*primary_700",
    button_primary_background_fill_hover="*primary_800",
    button_primary_text_color="white",
    button_cancel_background_fill="#b91c1c",  # Stop buttons: white on red at 6.5:1
    button_cancel_background_fill_hover="#991b1b",
    button_cancel_text_color="white",
)


def lighten_sessions() -> None:
    """Keep Gradio's per-session state small: a few KB a browser session instead of about 370 KB.

    Gradio's SessionState renders every component's configuration for each new session up front; only deep links
    (which GenLab does not offer) read them, and only components a session changed differ from the defaults. Here
    the defaults are rendered when asked instead. The first session is built by Gradio's own code and compared: if
    Gradio's SessionState has other attributes than this one sets, Gradio's own stays in use.
    """
    from gradio import state_holder

    session_class = state_holder.SessionState
    if getattr(session_class, "_genlab_original_init", None):
        return
    original_init = session_class.__init__

    def light_init(self, blocks) -> None:
        if session_class._genlab_light is None:  # the first session: Gradio's own, and the check
            original_init(self, blocks)
            expected = {"blocks_config", "config_values", "state_data", "_state_ttl", "is_closed"}
            session_class._genlab_light = set(vars(self)) - {"STATE_TTL_WHEN_CLOSED"} == expected
            if not session_class._genlab_light:
                log.warning("Gradio's SessionState has changed; its per-session state is kept as Gradio keeps it")
            self._genlab_blocks = blocks
            return
        if not session_class._genlab_light:
            original_init(self, blocks)
            return
        self.blocks_config = copy.copy(blocks.default_config)
        self.config_values = {}  # filled by Gradio for the components this session changes
        self.state_data, self._state_ttl, self.is_closed = {}, {}, False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST") else 3600
        self._genlab_blocks = blocks

    def components(self):
        for key, block in self.blocks_config.blocks.items():
            if key in self._genlab_blocks.blocks:
                config = self.config_values.get(key) or self.blocks_config.config_for_block(key, [], block)
                if config:
                    yield config

    session_class.__init__ = light_init
    session_class.components = property(components)
    session_class._genlab_original_init = original_init
    session_class._genlab_light = None


def build_app(registry: Registry | None = None, text_models: TextModels | None = None) -> gr.Blocks:
    """Assemble the tabs into one Blocks app with a bounded queue."""
    registry = registry or Registry()
    text_models = text_models or TextModels(registry)
    lighten_sessions()
    with gr.Blocks(title="GenLab", delete_cache=(600, 1800)) as demo:
        with gr.Row(elem_id="genlab-language"):
            for code, name in LANGUAGES.items():
                button = gr.Button(name, size="sm", scale=0, min_width=90, elem_id=f"genlab-lang-{code}")
                button.click(None, js=f"() => window.genlabSetLocale('{code}')")
        gr.Markdown("# GenLab")
        gr.Markdown(T("See and steer generative models: pick a model, move a control, watch the samples change."))
        bar = lesson.LessonBar()
        with gr.Tabs(elem_id="genlab-tabs") as tabs:
            gan_picker, (vae_picker, vq_picker) = gan.build(demo, registry), vae.build(demo, registry)
            diffusion_picker = diffusion.build(demo, registry)
            pickers = (gan_picker, vae_picker, text.build(demo, text_models), diffusion_picker, vq_picker)
            training.build(demo, registry, text_models, pickers)
            scoreboard.build(demo, registry)
        bar.wire(demo, tabs)
    # Model events set their own queues (demos/common.py: IMAGES, TEXT); anything else gets a limit of 2.
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=2)
    return demo


def parse_args(argv: list[str] | None = None, environ: dict | None = None) -> argparse.Namespace:
    """Host, port and share from flags, else the environment; loopback and no share link by default."""
    environ = os.environ if environ is None else environ
    # A Space sets GRADIO_SERVER_NAME=0.0.0.0; anywhere else the app stays on loopback unless asked.
    host = environ.get("GENLAB_HOST") or environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = environ.get("GENLAB_PORT") or environ.get("GRADIO_SERVER_PORT") or "7860"
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=host)
    parser.add_argument("--port", type=int, default=int(port))
    parser.add_argument(
        "--share", action="store_true", default=environ.get("GENLAB_SHARE") == "1", help="a public gradio.live link"
    )
    return parser.parse_args(argv)


def check_lessons() -> list[str]:
    """Read every lesson file once at start; each malformed one is named with its line (the app starts anyway)."""
    problems = []
    for name in available_lessons():
        try:
            load_lesson(name)
        except LessonError as error:
            problems.append(str(error))
            log.error("lesson %s cannot be used: %s", name, error)
    return problems


def limit_malloc_arenas(count: int = 2) -> bool:
    """Cap glibc's malloc arenas. Gradio serves each request on one of many threads, and glibc gives threads
    arenas of their own that keep freed memory: one long prompt could leave 100-200 MB behind in a fresh
    arena. False where this is not glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-8, count))  # M_ARENA_MAX
    except (OSError, AttributeError):
        return False


def main() -> None:
    limit_malloc_arenas()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args()
    # Runs are everyone's on a single-user laptop; on a server others reach (a Space, a class) each is its owner's.
    shared_host = args.host not in ("127.0.0.1", "localhost", "::1") or bool(os.environ.get("SPACE_ID"))
    os.environ.setdefault("GENLAB_PUBLISH_RUNS", "0" if shared_host else "1")
    check_lessons()
    registry = Registry()
    text_models = TextModels(registry)
    demo = build_app(registry, text_models)
    # SmolLM2 gets ready in the background once the page answers (until then it competes with the start-up);
    # the Text tab shows its progress meanwhile.
    # GENLAB_PRELOAD=0 leaves it to the first request instead (a server used only for training, or a test).
    server_started = threading.Event()
    if os.environ.get("GENLAB_PRELOAD", "1") != "0":
        text_models.preload(after=server_started)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        show_error=False,
        css=CSS,
        theme=THEME,
        js=JS,
        i18n=I18N,
        max_file_size="10mb",
        state_session_capacity=SESSION_CAPACITY,
        prevent_thread_lock=True,
    )
    server_started.set()
    demo.block_thread()


if __name__ == "__main__":
    main()
