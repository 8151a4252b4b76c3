"""``population.pick`` draws exactly what numpy's ``Generator.choice(p=...)`` draws."""

from __future__ import annotations

import numpy as np
import pytest

from sim.world.population import pick


def numpy_pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = sorted(weights)
    probs = np.array([weights[n] for n in names])
    return names[int(rng.choice(len(names), p=probs / probs.sum()))]


def test_pick_is_numpys_choice_draw_for_draw_and_leaves_the_stream_where_numpy_does() -> None:
    mixes = np.random.default_rng(5)
    for trial in range(300):
        size = int(mixes.integers(1, 9))
        raw = mixes.random(size) * mixes.choice([1.0, 3.0, 1e-3, 40.0])
        raw[mixes.random(size) < 0.2] = 0.0  # zero weights are legal and never drawn
        if not raw.sum():
            raw[0] = 1.0
        weights = {f"n{i}": float(w) for i, w in enumerate(raw)}
        ours, theirs = np.random.default_rng(trial), np.random.default_rng(trial)
        drawn = [pick(ours, weights) for _ in range(50)]
        assert drawn == [numpy_pick(theirs, weights) for _ in range(50)]
        assert ours.random() == theirs.random()


def test_integer_weights_draw_like_float_weights() -> None:
    a, b = np.random.default_rng(1), np.random.default_rng(1)
    assert [pick(a, {"x": 1, "y": 3}) for _ in range(40)] == [
        numpy_pick(b, {"x": 1, "y": 3}) for _ in range(40)
    ]


def test_bad_weights_fail_as_numpy_says() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        pick(np.random.default_rng(0), {"a": -1.0, "b": 2.0})


def test_shapes_drawn_once_per_process_are_the_shapes_each_share_would_draw() -> None:
    from pathlib import Path

    from sim.world import population
    from sim.world.scenario import load_scenario
    from sim.world.world import World

    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(root / "scenarios" / "population.toml").with_overrides(300, 1)

    def members(world: World) -> list[tuple[str, list[str]]]:
        return [(h.id, [p.persona.name for p in h.members]) for h in world.households]

    population._SHAPES = None
    cold = [members(World(scenario, shard=(k, 3))) for k in range(3)]
    warm = [members(World(scenario, shard=(k, 3))) for k in range(3)]  # the kept shapes
    assert population._SHAPES is not None and population._SHAPES[0][0] is scenario
    whole = members(World(scenario))
    assert cold == warm
    assert sorted(row for share in cold for row in share) == sorted(whole)
