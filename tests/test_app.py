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
