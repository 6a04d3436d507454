"""The process that trains one Training-tab run (started by genmodels.jobs.ProcessTrainingJob).

Input (standard input): one JSON line, {"spec": RunSpec fields, "text": str or null, "evaluate_every": int,
"threads": torch threads (optional)}, then optionally a line "stop". A "stop" line, or the input closing (the
server has gone), stops training after the current step; what was learned is saved either way.

Output (standard output, JSON lines): {"type": "started", "step", "total_steps", "threads"}, one
{"type": "update", "step", "losses", "steps_per_second", ["quality", "text", "preview"]} per step, then
{"type": "finished", "stopped", "result"} or {"type": "failed", "message"}. Anything else written to standard
output goes to standard error.

    python -m genmodels.training_worker < request.json
"""

import json
import os
import sys
import threading
import traceback


class Channel:
    """JSON lines to the parent. If the parent has gone, sending stops the run (which still saves)."""

    def __init__(self, stream, stop: threading.Event):
        self.stream, self.stop = stream, stop

    def send(self, kind: str, **fields) -> None:
        try:
            self.stream.write(json.dumps({"type": kind, **fields}) + "\n")
            self.stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.stop.set()


def listen(stop: threading.Event) -> None:
    for line in sys.stdin:
        if line.strip() == "stop":
            stop.set()
    stop.set()  # input closed


def train(request: dict, channel: Channel, stop: threading.Event) -> None:
    import torch

    from .jobs import encode_tensor, job_updates
    from .registry import Registry
    from .trainers import keep_freed_memory
    from .training_runs import TEXT_FAMILIES, Run, RunSpec

    keep_freed_memory()
    if request.get("threads"):
        torch.set_num_threads(int(request["threads"]))
    spec = RunSpec(**request["spec"])
    classifier = Registry().load("mnist-classifier", "classifier") if spec.family not in TEXT_FAMILIES else None
    run = Run(spec, request.get("text"), classifier)
    trainer = run.trainer
    channel.send("started", step=trainer.step, total_steps=trainer.config.steps, threads=torch.get_num_threads())
    every = int(request.get("evaluate_every") or 0)
    for update in job_updates(trainer, stop, lambda _: run.evaluate(), every):
        fields = {"step": update.step, "losses": update.losses, "steps_per_second": update.steps_per_second}
        if update.quality is not None:
            fields["quality"] = update.quality
            if spec.family in TEXT_FAMILIES:
                fields["text"] = run.sample_text()
        if update.preview is not None:
            fields["preview"] = encode_tensor(update.preview)
        channel.send("update", **fields)
    stopped = stop.is_set() and trainer.step < trainer.config.steps
    channel.send("finished", stopped=stopped, result=run.finish())


def main() -> None:
    # Standard output carries the protocol only: keep a private copy of it and send fd 1 to standard error.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    stop = threading.Event()
    channel = Channel(protocol, stop)
    try:
        request = json.loads(sys.stdin.readline())
        threading.Thread(target=listen, args=(stop,), name="stop-listener", daemon=True).start()
        train(request, channel, stop)
    except Exception as error:
        diverged = type(error).__name__ == "TrainingDiverged"  # said as it is, not as a crash
        if diverged:
            print(f"training stopped: {error}", file=sys.stderr)
        else:
            traceback.print_exc()
        channel.send("failed", message=str(error) or type(error).__name__, diverged=diverged)


if __name__ == "__main__":
    main()
