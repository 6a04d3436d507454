"""Each student's own runs: records, who may see and change what, two sessions racing for a name, and eviction."""

import os
import threading
import time

import pytest

from genmodels import ownership
from genmodels.ownership import RunAccessError, RunOwners, current_session, session_scope


@pytest.fixture
def class_mode(monkeypatch):
    monkeypatch.setenv("GENLAB_PUBLISH_RUNS", "0")


def _save(owners: RunOwners, name: str, size: int = 10, age: float = 0.0) -> None:
    """A run's model and state folders on disk, `age` seconds old."""
    for folder in (owners.models_dir / name, owners.states_dir / name):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "blob").write_bytes(b"x" * size)
        stamp = time.time() - age
        os.utime(folder, (stamp, stamp))


def test_a_run_is_its_owners_until_published(tmp_path, class_mode):
    owners = RunOwners(tmp_path)
    owners.claim("alice-gan", "alice")
    _save(owners, "alice-gan")
    assert owners.may_see("alice-gan", "alice") and owners.may_change("alice-gan", "alice")
    assert not owners.may_see("alice-gan", "bob") and not owners.may_change("alice-gan", "bob")
    assert not owners.may_see("alice-gan", None)  # the page as first built shows no private run
    with pytest.raises(RunAccessError, match="another student"):
        owners.claim("alice-gan", "bob")
    with pytest.raises(RunAccessError):
        owners.publish("alice-gan", "bob")
    with pytest.raises(RunAccessError):
        owners.delete("alice-gan", "bob")
    owners.publish("alice-gan", "alice")
    assert owners.may_see("alice-gan", "bob") and not owners.may_change("alice-gan", "bob")
    owners.delete("alice-gan", "alice")
    assert not owners.exists("alice-gan") and owners.runs() == []


def test_single_user_mode_shares_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_PUBLISH_RUNS", "1")
    owners = RunOwners(tmp_path)
    owners.claim("mine", "page-1")
    assert owners.may_see("mine", "page-2") and owners.may_change("mine", "page-2")  # a reloaded page is still me


def test_unrecorded_runs_are_seen_by_all_and_changed_by_none(tmp_path, class_mode):
    owners = RunOwners(tmp_path)
    _save(owners, "from-the-command-line")
    assert owners.may_see("from-the-command-line", "anyone")
    assert not owners.may_change("from-the-command-line", "anyone")
    with pytest.raises(RunAccessError, match="taken"):
        owners.claim("from-the-command-line", "anyone")


def test_two_sessions_claiming_one_name_at_once_one_wins(tmp_path, class_mode):
    owners = RunOwners(tmp_path)
    outcomes, barrier = {}, threading.Barrier(8)

    def claim(session):
        barrier.wait()
        try:
            owners.claim("popular", session)
            outcomes[session] = "won"
        except RunAccessError:
            outcomes[session] = "refused"

    threads = [threading.Thread(target=claim, args=(f"s{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()).count("won") == 1
    winner = next(s for s, outcome in outcomes.items() if outcome == "won")
    assert owners.record("popular").owner == winner


def test_eviction_removes_the_oldest_unpinned_runs_and_spares_busy_ones(tmp_path, class_mode, monkeypatch):
    owners = RunOwners(tmp_path)
    for age, name in [(500, "oldest"), (400, "pinned-example"), (300, "training-now"), (200, "newer"), (100, "new")]:
        owners.claim(name, "s")
        _save(owners, name, age=age)
    monkeypatch.setattr(ownership, "PINNED", {"pinned-example"})
    removed = owners.evict(busy={"training-now"}, max_runs=3, max_mb=1000, room_for=0)
    assert removed == ["oldest", "newer"]
    assert owners.runs() == ["new", "pinned-example", "training-now"]
    # By size: 3 runs of 2 x 400 KB; a 1 MB limit keeps one
    for name in ("new", "pinned-example", "training-now"):
        _save(owners, name, size=400_000, age=0)
    monkeypatch.setattr(ownership, "PINNED", set())
    assert owners.evict(max_runs=100, max_mb=1.0, room_for=0) and len(owners.runs()) == 1


def test_the_registry_lists_and_loads_runs_for_those_who_may_see_them(tmp_path, class_mode):
    import torch

    from genmodels.checkpoints import CHECKPOINTS_DIR, make_card, save_checkpoint
    from genmodels.registry import Registry, UnknownModel
    from genmodels.vae import VAE, VAEConfig

    owners = RunOwners(tmp_path)
    card = make_card(title="t", family="vae", summary="s", data="d", held_out="h", training="t", command="c",
                     metrics={"x": 1}, metrics_text="")  # fmt: skip
    torch.manual_seed(0)
    owners.claim("alice-vae", "alice")  # a run is claimed when it starts, saved when it ends
    save_checkpoint(VAE(VAEConfig(latent_dim=2, channels=4, hidden=8)), tmp_path / "models" / "alice-vae", card)
    registry = Registry(roots=(CHECKPOINTS_DIR, tmp_path / "models"), device="cpu")
    with session_scope("alice"):
        assert "alice-vae" in registry.names("vae") and registry.load("alice-vae", "vae") is not None
    with session_scope("bob"):
        assert "alice-vae" not in registry.names("vae") and "vae-16d" in registry.names("vae")
        with pytest.raises(UnknownModel):
            registry.load("alice-vae", "vae")
    assert current_session() is None
    owners.publish("alice-vae", "alice")
    with session_scope("bob"):
        assert "alice-vae" in registry.names("vae")
