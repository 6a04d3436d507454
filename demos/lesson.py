"""The lesson bar: `?lesson=NAME` (or GENLAB_LESSON) shows a lesson's walkthrough above the tabs, shows only its
tabs, and sets, locks and caps its controls. The server holds the locks and caps (demos.common.within_lesson)."""

import gradio as gr

from genmodels.lessons import CAPPABLE, CONTROLS, TABS, Lesson, LessonError, load_lesson

from .common import DEFAULT_LESSON, DEFAULT_LESSON_PROBLEM, lesson_of, session_of, set_session_lesson


class LessonBar:
    def __init__(self):
        with gr.Accordion("Lesson", open=True, visible=False, elem_id="lesson-bar") as self.box:
            self.text = gr.Markdown(elem_id="lesson-step")
            with gr.Row():
                self.previous = gr.Button("← Previous step", size="sm")
                self.next = gr.Button("Next step →", size="sm")
        self.step = gr.State(0)
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
            where = f" · in the **{current.tab}** tab" if current.tab else ""
            text += f"\n\nStep {step + 1} of {len(lesson.steps)}{where}: **{current.title}**\n\n{current.text}"
        locked = [CONTROLS[name][1] for name in sorted(lesson.locks)]
        if locked:
            text += "\n\n🔒 Fixed for this lesson: " + ", ".join(locked) + "."
        return text

    def wire(self, demo: gr.Blocks, tabs: gr.Tabs) -> None:
        controls = getattr(demo, "genlab_controls", {})
        tab_keys = [f"tab.{tab}" for tab in TABS if f"tab.{tab}" in controls]
        control_keys = [name for name in CONTROLS if name in controls]
        outputs = [self.box, self.text, self.step, self.style, tabs, *(controls[k] for k in tab_keys + control_keys)]

        def on_load(request: gr.Request):
            name = (getattr(request, "query_params", None) or {}).get("lesson")
            lesson, problem = DEFAULT_LESSON, DEFAULT_LESSON_PROBLEM
            if name:
                try:
                    lesson, problem = load_lesson(name), None
                except LessonError as error:
                    lesson, problem = DEFAULT_LESSON, f"This lesson link cannot be used: {error}."
            set_session_lesson(session_of(request), lesson if name else None)
            shown = lesson is not None or problem is not None
            updates = [gr.update(visible=shown), self.render(lesson, 0, problem), 0]
            if lesson is None:
                return [*updates, "", gr.update(), *(gr.update() for _ in tab_keys + control_keys)]
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
            return updates

        def move(by: int):
            def handler(step, request: gr.Request):
                lesson = lesson_of(session_of(request))
                if lesson is None or not lesson.steps:
                    return gr.update(), step
                step = max(0, min(int(step or 0) + by, len(lesson.steps) - 1))
                return self.render(lesson, step), step

            return handler

        demo.load(on_load, None, outputs, api_visibility="private", queue=False)
        self.previous.click(move(-1), self.step, [self.text, self.step], api_visibility="private", queue=False)
        self.next.click(move(1), self.step, [self.text, self.step], api_visibility="private", queue=False)
