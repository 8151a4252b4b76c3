"""``hopsim compare SCENARIO.toml``: every variant on the same population, side by side.

A split test inside one run compares two different crowds; here each arm gets
the *same* crowd. For each replicate seed the scenario runs once per variant
with the campaign's table rewritten so that variant has a 100% share (control
stays control: assigned, measured, never sent). The world gives every person
their own named random stream, so the people, their days and their dice are
identical across arms until a message changes what someone does: common
random numbers. Each arm's run folder lands under ``--out`` as
``<variant>-r<k>/`` and ``compare.json`` plus ``report.html`` sit beside them.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from rich.console import Console

    from sim.analysis.compare import Arm
    from sim.trace.truth import Owners
    from sim.world.scenario import Scenario

Experiment = tuple[str, list[tuple[str, bool]]]  # campaign, [(variant, is_control)]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="run every variant on the same population and compare them"
    )
    parser.add_argument(
        "scenario",
        type=Path,
        nargs="+",
        help="scenario TOML file with [[campaigns]] or [[journeys]]; two or more files are"
        " designs compared on one population (the first is the baseline)",
    )
    parser.add_argument(
        "--cannibalisation",
        action="store_true",
        help="one scenario with two or more [[journeys]]: run it whole and once without each"
        " journey, and report how much credit the journeys take from each other",
    )
    parser.add_argument(
        "--replicates", type=int, default=3, help="seeds per variant (default 3): seed, seed+1, ..."
    )
    parser.add_argument("--persons", type=int, help="override the scenario's population size")
    parser.add_argument("--days", type=int, help="override the number of simulated days")
    parser.add_argument("--seed", type=int, help="first replicate's seed (default: the scenario's)")
    parser.add_argument(
        "--out", type=Path, help="compare folder (default reports/<scenario>-compare-<UTC>/)"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes per run")
    parser.add_argument("--no-report", action="store_true", help="skip building report.html")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.commands.common import check_overrides
    from sim.errors import HopsimError
    from sim.world.scenario import load_scenario

    if args.replicates < 1:
        raise HopsimError("--replicates: expected a whole number >= 1")
    check_overrides(args)
    scenarios = [
        load_scenario(path).with_overrides(args.persons, args.days, args.seed)
        for path in args.scenario
    ]
    scenario = scenarios[0]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out: Path = args.out or Path("reports") / f"{scenario.name}-compare-{stamp}"
    if len(scenarios) > 1 or args.cannibalisation:
        return run_designs(scenarios, args, out)
    found = experiments(scenario)
    result = compare(scenario, found, out, args.replicates, args.workers)
    finish(result, out, print_table, not args.no_report)
    return 0


def finish(
    result: dict[str, Any], out: Path, show: Callable[[dict[str, Any]], None], report: bool
) -> None:
    """Write ``compare.json``, print its tables and where it is, and its report unless not."""
    (out / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
    show(result)
    print(f"compare folder: {out}")
    if report:
        from sim.report import build_report

        print(f"report: {build_report(out)}")


def experiments(scenario: Scenario) -> list[Experiment]:
    """Campaigns with two or more variants, each variant with its control flag.

    Raises :class:`HopsimError` when there is nothing to compare, and the
    usual :class:`ConfigError` (every problem listed) for a bad campaign table.
    """
    from sim.engine.messaging import build_messaging
    from sim.errors import HopsimError

    messenger = build_messaging(
        scenario.campaigns, str(scenario.path), scenario.journeys, scenario.programme
    )
    if messenger is None:
        raise HopsimError(f"{scenario.path}: no [[campaigns]] or [[journeys]] to compare")
    found = [
        (c.name, [(v.name, v.control) for v in c.variants])
        for c in messenger.campaigns.values()
        if len(c.variants) >= 2
    ]
    found += journey_experiments(messenger)
    if not found:
        raise HopsimError(
            f"{scenario.path}: no campaign has two or more [[campaigns.variants]] and no"
            " journey has an experiment step to compare"
        )
    return found


def journey_experiments(messenger: Any) -> list[Experiment]:
    """A journey's experiment step as ``journey.step``, its paths as the variants."""
    walker = messenger.walker
    if walker is None:
        return []
    return [
        (f"{journey.name}.{step.id}", [(arm.name, arm.control) for arm in step.paths])
        for journey in walker.journeys.values()
        for step in journey.steps.values()
        if step.kind == "experiment"
    ]


def force_path(
    journeys: list[dict[str, Any]], experiment: str, path: str
) -> list[dict[str, Any]] | None:
    """A copy of the ``[[journeys]]`` tables where ``path`` of the experiment step
    ``journey.step`` has share 100; ``None`` when ``experiment`` names no such step."""
    name, _, step_id = experiment.partition(".")
    tables = copy.deepcopy(journeys)
    for table in tables:
        if table.get("name") != name:
            continue
        for step in table.get("steps", []):
            if step.get("id") == step_id and step.get("kind") == "experiment":
                for arm in step.get("paths", []):
                    arm["share"] = 100 if arm.get("name") == path else 0
                return tables
    return None


def force_variant(
    campaigns: list[dict[str, Any]], campaign: str, variant: str
) -> list[dict[str, Any]]:
    """A copy of the ``[[campaigns]]`` tables where ``variant`` of ``campaign`` has share 100.

    The other variants stay declared with share 0 (never drawn); other
    campaigns keep their own split, identical in every arm.
    """
    tables = copy.deepcopy(campaigns)
    for table in tables:
        if table.get("name") != campaign:
            continue
        for item in table.get("variants", []):
            item["share"] = 100 if item.get("name") == variant else 0
    return tables


def arm_folder(campaign: str, variant: str, replicate: int, several: bool) -> str:
    return f"{campaign}-{variant}-r{replicate}" if several else f"{variant}-r{replicate}"


def compare(
    scenario: Scenario, found: list[Experiment], out: Path, replicates: int, workers: int
) -> dict[str, Any]:
    """Run every arm, read its folder, and build the compare.json document."""
    from sim.analysis.compare import campaign_block, funnel_dropoff
    from sim.analysis.compare_journey import journey_comparison
    from sim.runner import Run

    out.mkdir(parents=True, exist_ok=True)
    seeds = [scenario.seed + k for k in range(replicates)]
    blocks: dict[str, Any] = {}
    for campaign, order in found:
        arms: dict[str, list[Arm]] = {variant: [] for variant, _ in order}
        journeys: dict[str, list[dict[str, Any]]] = {variant: [] for variant, _ in order}
        programme: dict[str, list[dict[str, Any]]] = {variant: [] for variant, _ in order}
        for k, seed in enumerate(seeds):
            for variant, _ in order:
                folder = out / arm_folder(campaign, variant, k, len(found) > 1)
                base = scenario.with_overrides(seed=seed)
                paths = force_path(scenario.journeys, campaign, variant)
                if paths is not None:
                    arm_scenario = replace(base, journeys=paths)
                else:
                    forced = force_variant(scenario.campaigns, campaign, variant)
                    arm_scenario = replace(base, campaigns=forced)
                summary = Run(arm_scenario, folder, workers).execute()
                print(f"{campaign} / {variant} r{k} (seed {seed}): {summary['events']:,} events")
                arms[variant].append(read_arm(folder, campaign, variant, k, seed, out))
                journeys[variant].append(summary.get("journey_metrics", {}))
                if "programme" in summary.get("messaging", {}):
                    programme[variant].append(summary["messaging"]["programme"])
        blocks[campaign] = campaign_block(campaign, order, arms)
        lifts = programme_blocks(programme, out / campaign)
        for variant, row in blocks[campaign]["variants"].items():
            row["journey_metrics"] = journey_comparison(journeys[variant])
            if variant in lifts:  # the whole programme against its global control group
                row["programme"] = lifts[variant]
    first = blocks[found[0][0]]
    baseline = first["variants"][first["baseline"]]
    return {
        "scenario": scenario.name,
        "persons": scenario.persons,
        "days": scenario.days,
        "seeds": seeds,
        "replicates": replicates,
        "method": METHOD,
        "campaigns": blocks,
        "funnel": baseline["funnel"] or funnel_dropoff({}),
        "journeys": baseline["top_journeys"],
    }


LOG_WIDTH = 200  # columns for a compare table printed to a log or a pipe
METHOD = {
    "unit": "exposure: a profile entering the campaign and reaching the variant decision",
    "conversion": "the campaign's goal event within its window after the exposure (engine count)",
    "interval": "Wilson score 95% on exposures pooled over replicates",
    "lift_vs_control": "difference of proportions vs the baseline (control, else the first "
    "variant), pooled, Newcombe hybrid score 95% interval (independent-sample; conservative "
    "under common random numbers)",
    "lift_paired": "mean of per-replicate differences (arms share the seed), t 95% interval "
    "over replicates",
    "opt_out_rate": "opt-outs caused by this campaign's messages / exposures",
    "bad_context_rate": "bad-context deliveries / sent messages",
    "messages_per_converted": "sent messages / conversions",
    "journey_experiments": "a journey's experiment step `journey.step`: the unit is a run "
    "reaching the step, a conversion the journey's goal within its window after entry; sent "
    "and opt-outs count every message of the journey in the arm, opens and bad contexts "
    "those of the path's message steps",
    "journeys": "journeys.jsonl trails, preceded by message clicks (<channel>:click) since "
    "the person's previous order",
    "journey_metrics": "each arm's summary journey_metrics (docs/metrics.md) pooled over "
    "replicates; Wilson score 95% on bounce rate, open rate and CTR",
}


def read_arm(folder: Path, campaign: str, variant: str, k: int, seed: int, root: Path) -> Arm:
    """The counts of one arm's run folder for ``campaign``."""
    from sim.analysis.compare import Arm
    from sim.trace.reader import read_optional_jsonl
    from sim.trace.truth import owners_of_rows

    summary = json.loads((folder / "summary.json").read_text())
    block = summary.get("messaging", {}).get("experiments", {}).get(campaign, {}).get(variant, {})
    journey, _, step = campaign.partition(".")
    program = summary.get("journey_programs", {}).get(journey)
    if program is not None and step in program.get("steps", {}):
        block = program.get("paths", {}).get(variant, {})
    arm = Arm(variant, k, seed, str(folder.relative_to(root)))
    arm.n, arm.conversions = int(block.get("n", 0)), int(block.get("conversions", 0))
    arm.opened, arm.bad_context = int(block.get("opened", 0)), int(block.get("bad_context", 0))
    arm.funnel = Counter({k: int(v) for k, v in summary.get("funnel", {}).items()})
    arm.sent = sum(
        1
        for row in read_optional_jsonl(folder / "messages.jsonl")
        if row["decision"] == "sent"
        and (row["campaign"] == campaign or (program is not None and row.get("journey") == journey))
    )
    if program is not None:
        campaign = journey  # opt-outs: any of the journey's messages (``journey/step``)
    owner = owners_of_rows(read_optional_jsonl(folder / "truth.jsonl.gz"))
    arm.opt_outs, clicks = _message_events(folder / "trace.jsonl.gz", campaign, owner)
    arm.journeys = _journeys(folder / "journeys.jsonl", clicks)
    return arm


def _message_events(
    trace: Path, campaign: str, owner: Owners
) -> tuple[int, dict[str, list[tuple[float, str]]]]:
    """Opt-outs caused by ``campaign`` and every person's message clicks (any campaign).

    A click is a ``Campaign Landing`` screen (the deep link opened); its
    channel is the one of the person's latest message they acted on.
    """
    from sim.analysis.journey_metrics import is_opt_out, opened_channel
    from sim.trace.clock import epoch_seconds
    from sim.trace.reader import iter_lines
    from sim.trace.vocabulary import CAMPAIGN_LANDING

    opt_outs = 0
    last_channel: dict[str, str] = {}
    clicks: dict[str, list[tuple[float, str]]] = {}
    for _, line in iter_lines(trace):
        if b'"campaign"' not in line:
            continue
        event = orjson.loads(line)
        props = event.get("properties") or {}
        name = event.get("event") or event.get("name")
        source = str(props.get("campaign", ""))
        mine = source == campaign or source.startswith(f"{campaign}/")
        if mine and is_opt_out(name, props):
            opt_outs += 1
        device = (event.get("context") or {}).get("device") or {}
        device_id = device.get("id")
        person = owner.person(None if device_id is None else str(device_id), event.get("userId"))
        if person is None:
            continue
        channel = opened_channel(name, props)
        if channel is not None:
            last_channel[person] = channel
        elif name == CAMPAIGN_LANDING and person in last_channel:
            step = f"{last_channel[person]}:click"
            clicks.setdefault(person, []).append((epoch_seconds(event["timestamp"]), step))
    return opt_outs, clicks


def _journeys(path: Path, clicks: dict[str, list[tuple[float, str]]]) -> Counter[tuple[str, ...]]:
    """Each order's trail with the person's message clicks since their previous order."""
    from sim.analysis.compare import with_touchpoints
    from sim.trace.clock import epoch_seconds
    from sim.trace.reader import read_optional_jsonl

    rows = sorted(read_optional_jsonl(path), key=lambda r: (r["person_id"], r["at"]))
    paths: Counter[tuple[str, ...]] = Counter()
    previous: dict[str, float] = {}
    for row in rows:
        person, at = str(row["person_id"]), epoch_seconds(row["at"])
        since = previous.get(person, float("-inf"))
        paths[with_touchpoints(row["path"], clicks.get(person, []), since, at)] += 1
        previous[person] = at
    return paths


def _console() -> Console:
    """Rich's console, at the table's full width when the output is a log or a pipe.

    Rich cuts every column to fit 80 characters when stdout is not a terminal,
    so a compare run in CI or redirected to a file printed "cart…" and "[6.6…".
    """
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=LOG_WIDTH)


def _fmt(value: Any, pct: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.2f}%" if pct else f"{value:.2f}"


def print_table(result: dict[str, Any]) -> None:
    """Per campaign: outcomes (rate, lifts with 95% intervals), then side effects and journeys."""
    from rich.table import Table

    from sim.analysis.compare import pp_interval
    from sim.analysis.compare_journey import journey_table_rows

    console = _console()
    for name, block in result["campaigns"].items():
        outcome = Table(title=f"{name}: conversions (baseline {block['baseline']})")
        effects = Table(title=f"{name}: messages and side effects")
        for column in ("variant", "n", "conv", "rate [95% CI]", "lift [95% CI]", "paired lift"):
            outcome.add_column(column, justify="left" if column == "variant" else "right")
        for column in ("variant", "sent", "open lift [95% CI]", "opt-out", "bad ctx", "msgs/conv"):
            effects.add_column(column, justify="left" if column == "variant" else "right")
        for variant, row in block["variants"].items():
            label = variant + (" (control)" if row["control"] else "")
            pair = row["lift_paired"] or {}
            outcome.add_row(
                label,
                f"{row['n']:,}",
                f"{row['conversions']:,}",
                f"{_fmt(row['conversion_rate'])} [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]",
                pp_interval(row["lift_vs_control"], row["lift_ci_low"], row["lift_ci_high"]),
                pp_interval(pair.get("mean"), pair.get("ci_low"), pair.get("ci_high")),
            )
            opens = row["open_lift"] or {}
            effects.add_row(
                label,
                f"{row['sent']:,}",
                pp_interval(opens.get("diff"), opens.get("ci_low"), opens.get("ci_high")),
                _fmt(row["opt_out_rate"]),
                _fmt(row["bad_context_rate"]),
                _fmt(row["messages_per_converted"], pct=False),
            )
        console.print(outcome)
        console.print(effects)
        sessions = Table(title=f"{name}: journey metrics (docs/metrics.md)")
        for column in ("variant", "sessions", "bounce [95% CI]", "views/session", "time/session"):
            sessions.add_column(column, justify="left" if column == "variant" else "right")
        sessions.add_column("CTR [95% CI]", justify="right")
        for cells in journey_table_rows(block["variants"]):
            sessions.add_row(*cells)
        console.print(sessions)
        for variant, row in block["variants"].items():
            for journey in row["top_journeys"]:
                path = " > ".join(journey["path"])
                console.print(f"  {variant}: {path} ({journey['orders']} orders)")
    stages = result["funnel"]
    line = ", ".join(
        f"{stage} {v['count']}" + (f" (-{v['dropped'] * 100:.0f}%)" if v["dropped"] else "")
        for stage, v in stages.items()
    )
    console.print(f"funnel (baseline arm): {line}")


def design_arms(scenarios: list[Scenario], cannibalisation: bool) -> list[tuple[str, Scenario]]:
    """(name, scenario) per design: each file, or one file whole and without each journey.

    Raises :class:`HopsimError` on a name given twice or a file with one journey.
    """
    from sim.analysis.compare_programme import drop_journey, guard_pairs
    from sim.errors import HopsimError

    if cannibalisation:
        if len(scenarios) != 1:
            raise HopsimError("--cannibalisation: expected exactly one scenario file")
        whole = scenarios[0]
        names = [str(j.get("name")) for j in whole.journeys]
        guard_pairs(names, str(whole.path))
        return [("all", whole)] + [
            (f"without-{name}", replace(whole, journeys=drop_journey(whole.journeys, name)))
            for name in names
        ]
    arms: list[tuple[str, Scenario]] = []
    for scenario in scenarios:
        name = scenario.name
        if any(name == taken for taken, _ in arms):
            name = scenario.path.stem
        if any(name == taken for taken, _ in arms):
            raise HopsimError(f"{scenario.path}: design {name!r} is given twice")
        arms.append((name, scenario))
    return arms


def run_designs(scenarios: list[Scenario], args: argparse.Namespace, out: Path) -> int:
    """Designs (separate files, or one file's journeys left out in turn) on one population."""
    from sim.analysis.compare_designs import (
        Replicate,
        common_goal,
        design_rows,
        read_outcome,
        same_population,
    )
    from sim.analysis.compare_programme import (
        JourneyCredit,
        attribution,
        cannibalisation,
        read_credit,
    )
    from sim.runner import Run

    arms = design_arms(scenarios, args.cannibalisation)
    same_population([s for _, s in arms])
    goal = common_goal([s for _, s in arms])
    out.mkdir(parents=True, exist_ok=True)
    first = arms[0][1]
    seeds = [first.seed + k for k in range(args.replicates)]
    replicates: list[Replicate] = []
    programme: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in arms}
    credits: dict[str, list[JourneyCredit]] = {name: [] for name, _ in arms}
    for k, seed in enumerate(seeds):
        outcomes = []
        for name, scenario in arms:
            folder = out / f"{name}-r{k}"
            summary = Run(scenario.with_overrides(seed=seed), folder, args.workers).execute()
            print(f"{name} r{k} (seed {seed}): {summary['events']:,} events")
            outcomes.append(read_outcome(folder, name, goal, out))
            block = (summary.get("messaging") or {}).get("programme")
            if block:
                programme[name].append(block)
            if args.cannibalisation:
                credits[name].append(read_credit(folder))
        replicates.append(Replicate(seed, outcomes))
    names = [name for name, _ in arms]
    result: dict[str, Any] = {
        "mode": "designs",
        "scenario": first.name,
        "files": [str(s.path) for _, s in arms],
        "persons": first.persons,
        "days": first.days,
        "seeds": seeds,
        "replicates": args.replicates,
        "goal": {"event": goal[0], "properties": dict(goal[1])},
        "method": DESIGN_METHOD,
        "designs": design_rows(names, replicates),
        "programme": programme_blocks(programme, out),
    }
    if args.cannibalisation:
        journeys = [name.removeprefix("without-") for name in names[1:]]
        without = {j: credits[f"without-{j}"] for j in journeys}
        result["cannibalisation"] = cannibalisation(journeys, credits["all"], without)
        result["attribution"] = attribution(journeys, credits["all"], result["designs"])
    finish(result, out, print_designs, not args.no_report)
    problems = [b["problem"] for b in result["programme"].values() if "problem" in b]
    if problems:
        from sim.errors import HopsimError

        raise HopsimError("; ".join(problems))
    return 0


def programme_blocks(blocks: dict[str, list[dict[str, Any]]], out: Path) -> dict[str, Any]:
    """Per design with a global control group: the pooled lift, or the ``problem``."""
    from sim.analysis.compare_programme import pooled_programme
    from sim.errors import HopsimError

    found: dict[str, Any] = {}
    for name, items in blocks.items():
        if not items:
            continue
        try:
            found[name] = pooled_programme(items, f"{out / name}-r*")
        except HopsimError as exc:
            found[name] = {"problem": str(exc)}
    return found


DESIGN_METHOD = {
    "unit": "a true person the messaging engine decided about (sent or suppressed, any reason) "
    "in any design's run of the same seed: one set of people for every design",
    "conversion": "the designs' common goal event at or after the person's first decision in "
    "any design, to the end of the run",
    "interval": "Wilson score 95% on reached people pooled over replicates",
    "lift_vs_baseline": "rate minus the first design's rate, Newcombe hybrid score 95% interval "
    "(independent-sample, conservative under common random numbers)",
    "lift_paired": "mean over (replicate, person) of converted here minus converted in the "
    "baseline, normal 95% interval; 0 [0, 0] when no person's outcome changed",
    "messages_per_converted": "sent messages of the run / converted reached people",
    "opt_out_rate": "reached people who unsubscribed or withdrew push after a message / reached",
    "bad_context_rate": "bad-context deliveries / sent messages",
    "programme": "[programme] global control: people ordering at least once, treated minus "
    "held out, Newcombe 95% interval (sim/analysis/compare_programme.py)",
    "cannibalisation": "people who entered journeys A and B when both ran: A's goal credit "
    "without B minus with B, paired per person, normal 95% interval",
    "attribution": "per journey: people its goal attribution credits with every journey running, "
    "against the conversions it adds (all minus without-<journey>, paired per reached person)",
}


def print_designs(result: dict[str, Any]) -> None:
    """The design table, the programme lifts and the cannibalisation pairs."""
    from rich.table import Table

    from sim.analysis.compare import pp_interval
    from sim.analysis.compare_designs import design_table_rows

    console = _console()
    table = Table(title=f"designs on one population (goal {result['goal']['event']})")
    columns: tuple[str, ...] = ("design", "reached", "conv", "rate [95% CI]", "lift [95% CI]")
    columns += ("paired lift", "sent", "msgs/conv", "opt-outs [95% CI]", "bad ctx [95% CI]")
    for column in columns:
        table.add_column(column, justify="left" if column == "design" else "right")
    for cells in design_table_rows(result["designs"]):
        table.add_row(*cells)
    console.print(table)
    for name, block in result["programme"].items():
        if "problem" in block:
            console.print(f"programme ({name}): {block['problem']}")
            continue
        lift = block["lift"]
        held, treated = lift["held_out"], lift["treated"]
        console.print(
            f"programme ({name}): treated {treated['converted']}/{treated['persons']}"
            f" vs held out {held['converted']}/{held['persons']}: lift"
            f" {pp_interval(lift['lift'], lift['lift_ci_low'], lift['lift_ci_high'])}"
        )
    for row in result.get("attribution", []):
        console.print(
            f"{row['journey']}: credited {row['credited']} ({row['credited_by_another']} also by"
            f" another journey), incremental {row['incremental']}"
            f" ({pp_interval(row['incremental_rate'], row['incremental_ci_low'], row['incremental_ci_high'])}"
            " of reached people)"
        )
    for row in result.get("cannibalisation", []):
        console.print(
            f"cannibalisation of {row['journey']} by {row['other']}: {row['overlap']} people in"
            f" both, credited {row['credited_without_other']} without, "
            f"{row['credited_with_other']} with:"
            f" {pp_interval(row['cannibalised'], row['ci_low'], row['ci_high'])}"
        )
