"""The lesson bar: `?lesson=NAME` (or GENLAB_LESSON) shows a lesson's walkthrough above the tabs, shows only its
tabs, and sets, locks and caps its controls. The server holds the locks and caps (demos.common.within_lesson).

The bar's frame ("Step 2 of 5", the lock line) is in the page's language; the lesson's own title and steps are as
its teacher wrote them. A lesson opened by `?lesson=NAME` switches the page to the lesson's `language`.
"""

import gradio as gr

from genmodels.lessons import CAPPABLE, CONTROLS, TABS, Lesson, LessonError, load_lesson

from .common import DEFAULT_LESSON, DEFAULT_LESSON_PROBLEM, lesson_of, session_of, set_session_lesson
from .i18n import T, language_of, language_scope, tr, translate_message


class LessonBar:
    def __init__(self):
        with gr.Accordion(T("Lesson"), open=True, visible=False, elem_id="lesson-bar") as self.box:
            self.text = gr.Markdown(elem_id="lesson-step")
            with gr.Row():
                self.previous = gr.Button(T("← Previous step"), size="sm")
                self.next = gr.Button(T("Next step →"), size="sm")
        self.step = gr.State(0)
        # The language a `?lesson=` link's lesson asks the page for ("" for none), read by the page's script.
        self.language = gr.Textbox("", visible=False)
        # Gradio's tab strip keeps a hidden tab's button; a style rule per page hides the lesson's other tabs.
        self.style = gr.HTML("", elem_id="lesson-style", padding=False)

    @staticmethod
    def render(lesson: Lesson | None, step: int, problem: str | None = None) -> str:
        if lesson is None:
            return f"⚠️ {problem}" if problem else ""
        text = f"### {lesson.title}"
        if lesson.steps:
            step = max(0, min(step, len(lesson.steps) - 1))
            current = lesson.steps[step]
            values = {"number": step + 1, "total": len(lesson.steps), "title": current.title}
            if current.tab:
                text += "\n\n" + tr(
                    "Step {number} of {total} · in the **{tab}** tab: **{title}**", tab=tr(current.tab), **values
                )
            else:
                text += "\n\n" + tr("Step {number} of {total}: **{title}**", **values)
            text += f"\n\n{current.text}"
            if current.experiment:
                where = (
                    "Experiment for this step: **{title}**. It is selected in the Training tab's Break it fold: "
                    "predict, then start the run."
                    if current.experiment.startswith("training.")
                    else "Experiment for this step: **{title}**. It is selected in the tab's Experiments fold: "
                    "predict, run, then open the explanation."
                )
                text += "\n\n" + tr(where, title=tr(f"exp.{current.experiment}.title"))
        locked = [tr(CONTROLS[name][1]) for name in sorted(lesson.locks)]
        if locked:
            text += "\n\n" + tr(
                "🔒 Fixed for this lesson: {controls}.", controls=tr("lesson.list_separator").join(locked)
            )
        return text

    def wire(self, demo: gr.Blocks, tabs: gr.Tabs) -> None:
        controls = getattr(demo, "genlab_controls", {})
        tab_keys = [f"tab.{tab}" for tab in TABS if f"tab.{tab}" in controls]
        control_keys = [name for name in CONTROLS if name in controls]
        # Each tab's experiment picker and its fold: a step with an experiment selects it and opens the fold.
        experiment_tabs = [
            tab for tab in ("gan", "vae", "diffusion", "text", "training") if f"experiment.{tab}" in controls
        ]
        experiment_outputs = [controls[f"experiment.{tab}"] for tab in experiment_tabs]
        experiment_outputs += [controls[f"experiment_box.{tab}"] for tab in experiment_tabs]

        def experiment_updates(lesson: Lesson | None, step: int) -> list:
            steps = lesson.steps if lesson is not None else ()
            chosen = steps[max(0, min(step, len(steps) - 1))].experiment if steps else None
            pickers, boxes = [], []
            for tab in experiment_tabs:
                if chosen and chosen.split(".")[0] == tab:
                    pickers.append(gr.update(value=chosen.split(".", 1)[1] if tab == "training" else chosen))
                    boxes.append(gr.update(open=True))
                else:
                    pickers.append(gr.update())
                    boxes.append(gr.update())
            return pickers + boxes

        outputs = [
            self.box,
            self.text,
            self.step,
            self.language,
            self.style,
            tabs,
            *(controls[k] for k in tab_keys + control_keys),
            *experiment_outputs,
        ]

        def on_load(request: gr.Request):
            name = (getattr(request, "query_params", None) or {}).get("lesson")
            lesson, problem, language = DEFAULT_LESSON, DEFAULT_LESSON_PROBLEM, ""
            if name:
                try:
                    lesson, problem = load_lesson(name), None
                    language = lesson.language  # the page switches to it (see wire's last step)
                except LessonError as error:
                    lesson, problem = DEFAULT_LESSON, str(error)
            set_session_lesson(session_of(request), lesson if name else None)
            shown = lesson is not None or problem is not None
            with language_scope(language or language_of(request)):
                if name and problem:
                    problem = tr("This lesson link cannot be used: {error}.", error=translate_message(problem))
                elif problem:
                    problem = translate_message(problem)
                updates = [gr.update(visible=shown), self.render(lesson, 0, problem), 0, language]
            if lesson is None:
                return [
                    *updates,
                    "",
                    gr.update(),
                    *(gr.update() for _ in tab_keys + control_keys),
                    *(gr.update() for _ in experiment_outputs),
                ]
            hidden = [tab for tab in TABS if tab not in lesson.tabs]
            rules = "".join(f'button[role=tab][data-tab-id="{tab}"] {{ display: none !important; }}' for tab in hidden)
            updates.append(f"<style>{rules}</style>" if rules else "")
            updates.append(gr.update(selected=lesson.tabs[0]))  # the lesson's first tab, before the others hide
            updates += [gr.update(visible=key[4:] in lesson.tabs) for key in tab_keys]
            for key in control_keys:
                change = {}
                if key in lesson.settings:
                    change["value"] = lesson.settings[key]
                if key in lesson.locks:
                    change["interactive"] = False
                if key in CAPPABLE and key in lesson.caps:
                    change["maximum"] = lesson.caps[key]
                updates.append(gr.update(**change) if change else gr.update())
            return updates + experiment_updates(lesson, 0)

        def move(by: int):
            def handler(step, request: gr.Request):
                lesson = lesson_of(session_of(request))
                if lesson is None or not lesson.steps:
                    return gr.update(), step, gr.update(), *(gr.update() for _ in experiment_outputs)
                step = max(0, min(int(step or 0) + by, len(lesson.steps) - 1))
                current = lesson.steps[step]
                selected = gr.update(selected=current.tab) if current.tab else gr.update()
                with language_scope(language_of(request)):
                    return self.render(lesson, step), step, selected, *experiment_updates(lesson, step)

            return handler

        loaded = demo.load(on_load, None, outputs, api_visibility="private", queue=False)
        # A `?lesson=` page takes its lesson's language (a Chinese lesson, a Chinese page). window.genlabSetLocale is
        # the page script's language switch (app.py), which also tells the server through its cookie.
        switch = "(lang) => { if (lang) window.genlabSetLocale(lang); }"
        loaded.then(None, self.language, None, js=switch, api_visibility="private", queue=False)
        moved = [self.text, self.step, tabs, *experiment_outputs]
        self.previous.click(move(-1), self.step, moved, api_visibility="private", queue=False)
        self.next.click(move(1), self.step, moved, api_visibility="private", queue=False)
