"""Who may see and change a Training-tab run, and how many runs the server keeps.

A run belongs to the browser session that started it. Its record, runs/owners/NAME.json, says whose it is, whether
it is shared with everyone (published) and whether it is kept whatever the limits (pinned). The app sets the session
of the request being served with `session_scope`; the registry asks `may_see` before listing or loading a run.

Two modes:
- class mode (GENLAB_PUBLISH_RUNS=0, the default on a server others reach): runs are private until their owner
  publishes them, and only the owner may resume, overwrite, publish or delete one;
- single-user mode (GENLAB_PUBLISH_RUNS=1, the default on a laptop): every run is everyone's, as before.

A run with no record (trained before records existed, or by the command line) is visible to all and changed by none
in class mode. Shipped checkpoints (checkpoints/) are never runs: nothing here lists, changes or deletes them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from pathlib import Path

from .checkpoints import MODELS_DIR, RUNS_DIR

STATES_DIR = RUNS_DIR / "states"
OWNERS_DIR = RUNS_DIR / "owners"
MAX_RUNS = int(os.environ.get("GENLAB_MAX_RUNS", "100"))
MAX_RUNS_MB = float(os.environ.get("GENLAB_MAX_RUNS_MB", "1000"))
PINNED = {name.strip() for name in os.environ.get("GENLAB_PINNED_RUNS", "").split(",") if name.strip()}

_session: ContextVar[str | None] = ContextVar("genlab_session", default=None)


def publish_all() -> bool:
    """Single-user mode: every run is everyone's (GENLAB_PUBLISH_RUNS=1; app.py picks the default)."""
    return os.environ.get("GENLAB_PUBLISH_RUNS", "1") == "1"


def current_session() -> str | None:
    return _session.get()


@contextlib.contextmanager
def session_scope(session: str | None) -> Iterator[None]:
    """Everything inside runs on behalf of `session` (a browser session's id; None: the server itself)."""
    token = _session.set(session)
    try:
        yield
    finally:
        _session.reset(token)


class RunAccessError(ValueError):
    """A session asked to change a run that is not its own."""


@dataclass
class RunRecord:
    name: str
    owner: str
    published: bool = False
    pinned: bool = False
    created: float = 0.0


class RunOwners:
    """The records in runs/owners/, read fresh on every call (several processes and threads share them)."""

    def __init__(self, runs_dir: Path = RUNS_DIR):
        self.runs_dir = Path(runs_dir)
        self.owners_dir = self.runs_dir / "owners"
        self.models_dir = self.runs_dir / "models"
        self.states_dir = self.runs_dir / "states"

    # Records ---------------------------------------------------------------------------------------------------
    def record(self, name: str) -> RunRecord | None:
        try:
            data = json.loads((self.owners_dir / f"{name}.json").read_text())
            return RunRecord(**{key: data[key] for key in ("name", "owner", "published", "pinned", "created")})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self, record: RunRecord) -> None:
        self.owners_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.owners_dir / f".{record.name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(asdict(record)))
        os.replace(tmp, self.owners_dir / f"{record.name}.json")

    def exists(self, name: str) -> bool:
        """A run of that name exists in any form: a saved model, resumable state, or a record."""
        return (
            any((folder / name).exists() for folder in (self.models_dir, self.states_dir))
            or (self.owners_dir / f"{name}.json").is_file()
        )

    # Questions -------------------------------------------------------------------------------------------------
    def may_see(self, name: str, session: str | None = None) -> bool:
        """Whether `session` may list and use the run: its own, published, unrecorded, or single-user mode."""
        if publish_all():
            return True
        record = self.record(name)
        return record is None or record.published or (session is not None and record.owner == session)

    def may_change(self, name: str, session: str | None) -> bool:
        """Whether `session` may resume, overwrite, publish or delete the run."""
        if publish_all():
            return True
        record = self.record(name)
        return record is not None and session is not None and record.owner == session

    def visible(self, names: Iterable[str], session: str | None = None) -> list[str]:
        return [name for name in names if self.may_see(name, session)]

    # Changes ---------------------------------------------------------------------------------------------------
    def claim(self, name: str, session: str | None) -> RunRecord:
        """Make `session` the owner of a new run called `name`, or confirm it already is.

        Two sessions claiming one new name at once: exactly one wins (the record is created exclusively).
        """
        record = self.record(name)
        if record is not None:
            if not self.may_change(name, session):
                raise RunAccessError(f"{name!r} is another student's run; pick another name.")
            return record
        if self.exists(name) and not publish_all():
            raise RunAccessError(f"{name!r} is taken; pick another name.")
        record = RunRecord(name, session or "", published=False, created=time.time())
        self.owners_dir.mkdir(parents=True, exist_ok=True)
        try:
            with open(self.owners_dir / f"{name}.json", "x") as handle:
                handle.write(json.dumps(asdict(record)))
        except FileExistsError:
            return self.claim(name, session)  # someone was quicker: check against their record
        return record

    def publish(self, name: str, session: str | None, published: bool = True) -> RunRecord:
        record = self._own(name, session)
        record.published = published
        self._write(record)
        return record

    def delete(self, name: str, session: str | None) -> None:
        self._own(name, session)
        self._remove(name)

    def _own(self, name: str, session: str | None) -> RunRecord:
        record = self.record(name)
        if record is None or not self.may_change(name, session):
            raise RunAccessError(f"there is no run of yours called {name!r}")
        return record

    def _remove(self, name: str) -> None:
        for folder in (self.models_dir / name, self.states_dir / name):
            shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.owners_dir / f"{name}.json").unlink()

    # Limits ----------------------------------------------------------------------------------------------------
    def pinned(self, name: str) -> bool:
        """Kept whatever the limits: named in GENLAB_PINNED_RUNS (a teacher's examples) or pinned in its record."""
        record = self.record(name)
        return name in PINNED or bool(record and record.pinned)

    def runs(self) -> list[str]:
        names = {p.name for d in (self.models_dir, self.states_dir) if d.is_dir() for p in d.iterdir()}
        if self.owners_dir.is_dir():
            names |= {p.stem for p in self.owners_dir.glob("*.json")}
        return sorted(name for name in names if not name.startswith("."))

    def size_bytes(self, name: str) -> int:
        total = 0
        for folder in (self.models_dir / name, self.states_dir / name):
            if folder.is_dir():
                total += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        return total

    def last_used(self, name: str) -> float:
        folders = [folder / name for folder in (self.models_dir, self.states_dir)]
        times = [folder.stat().st_mtime for folder in folders if folder.exists()]
        record = self.record(name)
        return max(times or [record.created if record else 0.0])

    def evict(
        self, busy: Iterable[str] = (), max_runs: int = MAX_RUNS, max_mb: float = MAX_RUNS_MB, room_for: int = 1
    ) -> list[str]:
        """Remove the oldest runs that are not pinned and not `busy` until `room_for` more fit; returns their names."""
        busy = set(busy)
        names = self.runs()
        sizes = {name: self.size_bytes(name) for name in names}
        candidates = sorted(
            (name for name in names if name not in busy and not self.pinned(name)),
            key=self.last_used,
        )
        removed = []
        while candidates and (
            len(names) - len(removed) + room_for > max_runs
            or sum(sizes[n] for n in names if n not in removed) > max_mb * 2**20
        ):
            name = candidates.pop(0)
            self._remove(name)
            removed.append(name)
        return removed


__all__ = [
    "MAX_RUNS",
    "MAX_RUNS_MB",
    "MODELS_DIR",
    "RunAccessError",
    "RunOwners",
    "RunRecord",
    "current_session",
    "publish_all",
    "session_scope",
]
