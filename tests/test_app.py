import gradio as gr

from app import build_app, parse_args


def test_defaults_are_loopback_7860_without_share_link():
    args = parse_args([], environ={})
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)


def test_flags_and_environment_opt_in():
    assert parse_args(["--host", "0.0.0.0", "--port", "9000", "--share"], environ={}).share is True
    args = parse_args([], environ={"GENLAB_HOST": "0.0.0.0", "GENLAB_PORT": "8000", "GENLAB_SHARE": "1"})
    assert (args.host, args.port, args.share) == ("0.0.0.0", 8000, True)
    assert parse_args([], environ={"GRADIO_SERVER_NAME": "0.0.0.0"}).host == "0.0.0.0", "a Space's setting wins"


def test_app_builds_with_named_endpoints_and_bounded_queue():
    demo = build_app()
    assert isinstance(demo, gr.Blocks)
    names = {fn.api_name for fn in demo.fns.values() if fn.api_name}
    assert {"gan_sample", "gan_interpolate", "gan_new_seed", "gan_model_info"} <= names
    assert demo._queue.max_size is not None


def test_a_browser_session_keeps_under_50_kb_and_deep_links_still_see_every_component():
    import tracemalloc

    from gradio.state_holder import SessionState

    demo = build_app()
    gradios_own = SessionState(demo)  # the first session is built by Gradio's code and checks the layout
    assert SessionState._genlab_light is True
    dropdown = next(block for block in demo.blocks.values() if isinstance(block, gr.Dropdown))
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    sessions = []
    for _ in range(40):
        session = SessionState(demo)
        # as a page load does: a few pickers get their own choices
        session[dropdown._id] = gr.Dropdown(choices=["a", "b"], value="a")
        sessions.append(session)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    per_session = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / len(sessions)
    assert per_session <= 50 * 1024, f"{per_session / 1024:.0f} KB per session"
    # Deep links read every component's configuration: exactly what Gradio's own session gives.
    gradios_own[dropdown._id] = gr.Dropdown(choices=["a", "b"], value="a")
    assert sessions[0][dropdown._id].choices == [("a", "a"), ("b", "b")]
    assert list(sessions[0].components) == list(gradios_own.components)
