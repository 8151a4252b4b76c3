"""Runs dealt into more shards than workers, simulated round by round (``sim.runner.workers.deal``)."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from sim.errors import HopsimError
from sim.runner import Run
from sim.runner.workers import Deal, LocalWorkers, deal, drive
from sim.world.scenario import load_scenario
from tests.run_folder import folder_bytes

POPULATION = Path(__file__).resolve().parents[1] / "scenarios" / "population.toml"
PROGRAMME = POPULATION.with_name("programme-journey.toml")
SILENT = POPULATION.with_name("cart-none.toml")  # no messaging: never pools, whatever the days


def test_a_one_day_run_is_dealt_into_batches_and_a_pooling_one_is_not() -> None:
    one_day = load_scenario(POPULATION).with_overrides(100_000, 1)
    assert deal(one_day, 2) == Deal(count=4, workers=2, alone=True)
    assert deal(one_day, 2).rounds == [[0, 1], [2, 3]]
    assert deal(one_day, 2, batch=30_000) == Deal(count=4, workers=2, alone=True)
    assert deal(one_day, 1, batch=1_000_000) == Deal(count=1, workers=1, alone=True)
    week = load_scenario(POPULATION).with_overrides(100_000, 7)
    assert week.campaigns, "the population scenario pools its campaigns' learning each midnight"
    assert deal(week, 2) == Deal(count=2, workers=2)


def test_a_paced_broadcast_keeps_every_shard_alive_at_once() -> None:
    """Shards of a rate-limited broadcast wait for each other's part of the wave: batched
    one after another on a worker, the first would wait for one that never starts."""
    paced = load_scenario(PROGRAMME).with_overrides(100_000, 1)
    assert any("rate_limit" in journey for journey in paced.journeys)
    assert deal(paced, 2) == Deal(count=2, workers=2)


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    scenario = load_scenario(POPULATION).with_overrides(240, 1)
    out = tmp_path_factory.mktemp("whole") / "run"
    Run(scenario, out, 1, batch=1_000).execute()
    return folder_bytes(out)


@pytest.mark.parametrize("workers", [1, 2])
def test_batches_write_the_same_bytes_as_one_shard(
    whole: dict[str, bytes], tmp_path: Path, workers: int
) -> None:
    scenario = load_scenario(POPULATION).with_overrides(240, 1)
    assert len(deal(scenario, workers, batch=50).rounds) > 1
    Run(scenario, tmp_path / "run", workers, batch=50).execute()
    batched = folder_bytes(tmp_path / "run")
    assert batched.keys() == whole.keys()
    for name, data in whole.items():
        assert batched[name] == data, name


def test_workers_going_through_their_own_shards_hand_back_what_lockstep_does(
    tmp_path: Path,
) -> None:
    """An ``alone`` deal lets each worker take the next shard without waiting for the other
    (``LocalWorkers.through``); the shards' parts, tables and counts are those of the same
    deal driven round by round in lockstep, and the progress bar still reaches the end."""
    scenario = load_scenario(POPULATION).with_overrides(240, 1)
    answers = {}
    for alone in (False, True):
        parts = tmp_path / str(alone)
        parts.mkdir()
        seen: list[tuple[float, int]] = []

        def note(share: float, events: int, seen: list[tuple[float, int]] = seen) -> None:
            seen.append((share, events))

        workers = LocalWorkers(scenario, parts, 2)
        try:
            results = drive(workers, Deal(6, 2, alone=alone), 1, note)
        finally:
            workers.close()
        assert [r.index for r in results] == list(range(6))
        assert seen[-1] == (1.0, sum(r.events for r in results))
        answers[alone] = (
            {f.name: f.read_bytes() for f in sorted(parts.iterdir()) if f.is_file()},
            [(r.events, r.tallies, r.journeys, r.messages, r.messaging) for r in results],
        )
    assert answers[True] == answers[False]


def test_a_several_day_run_without_messaging_goes_through_in_batches(tmp_path: Path) -> None:
    """Several days, nothing to pool: each worker runs its shards (each in a child process)
    through every midnight on its own, and the run writes the bytes of one shard."""
    scenario = load_scenario(SILENT).with_overrides(120, 2)
    assert deal(scenario, 2, batch=30).alone
    Run(scenario, tmp_path / "one", 1, batch=1_000).execute()
    Run(scenario, tmp_path / "batched", 2, batch=30).execute()
    one, batched = folder_bytes(tmp_path / "one"), folder_bytes(tmp_path / "batched")
    assert batched.keys() == one.keys()
    for name, data in one.items():
        assert batched[name] == data, name


def test_a_shard_that_fails_in_its_child_is_named_and_stops_the_run(tmp_path: Path) -> None:
    """A shard's child that raises hands its traceback to the runner, which names the worker."""
    scenario = load_scenario(POPULATION).with_overrides(60, 1)
    (tmp_path / "a-file").write_text("not a folder for the shards' parts")
    workers = LocalWorkers(scenario, tmp_path / "a-file", 2)
    try:
        with pytest.raises(
            HopsimError, match=r"worker \d failed:(.|\n)*(NotADirectory|FileExists)"
        ):
            drive(workers, Deal(4, 2, alone=True), 1)
    finally:
        workers.close()
    assert not any(p.is_alive() for p in workers.processes)


def test_a_shard_child_killed_mid_run_is_named_and_leaves_no_process(tmp_path: Path) -> None:
    """A shard's child killed from outside (as the out-of-memory killer would) stops the run
    with the shard and how its process ended, and closing leaves no worker or child behind."""
    scenario = load_scenario(POPULATION).with_overrides(400, 1)
    workers = LocalWorkers(scenario, tmp_path, 2)
    killed: list[int] = []

    def kill_a_child(share: float, events: int) -> None:
        if killed:
            return
        for worker in workers.processes:
            for child in psutil.Process(worker.pid).children():
                child.kill()
                killed.append(child.pid)
                return

    descendants: list[psutil.Process] = []
    before = {p.pid for p in psutil.Process().children(recursive=True)}  # another test's helpers
    try:
        with pytest.raises(
            HopsimError, match=r"shard \d+ stopped: its process was killed by SIGKILL"
        ):
            drive(workers, Deal(4, 2, alone=True), 1, kill_a_child)
        descendants = psutil.Process().children(recursive=True)
    finally:
        workers.close()
    assert killed, "no shard child was running when the first slice came back"
    assert not any(p.is_alive() for p in workers.processes)
    left = [p for p in descendants if p.pid not in before and p.is_running()]
    assert not [p for p in left if p.status() != psutil.STATUS_ZOMBIE]
