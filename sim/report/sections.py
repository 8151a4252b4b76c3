"""The report's sections: which figures to draw from which tables, with reading guides."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from matplotlib.figure import Figure

import sim.report.tables as t
from sim.report.experiments import compare_rows, programme_row
from sim.report.figures import engine, journey, load, people, realism
from sim.report.headline import fmt
from sim.report.journey_metrics import journey_parts


@dataclass(frozen=True)
class Panel:
    figure: Figure
    guide: str


@dataclass
class Section:
    key: str
    title: str
    panels: list[Panel] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)
    skipped: str = ""


def build_sections(tables: t.Tables) -> list[Section]:
    return [builder(tables) for builder in BUILDERS]


def _day_in_life(tables: t.Tables) -> Section:
    section = Section("day-in-the-life", "A day in the life")
    if tables.trace is None:
        section.skipped = _missing(tables, "trace.jsonl.gz", "truth.jsonl.gz")
    elif not tables.days:
        section.skipped = "no Mason, Susan or Kaylee in this run (truth `persona`)"
    truth = (tables.run_dir / "contexts.jsonl.gz").is_file()
    source = "contexts.jsonl.gz, the world's truth" if truth else "Context Changed events"
    for day in tables.days:
        bands = (
            f"grey bands are active periods (no contexts for them in {source.split(',')[0]})"
            if day.bands_from_sessions
            else f"background bands are where they were ({source})"
        )
        guide = (
            "Each bar is a session on one of this person's devices on their busiest day "
            f"(most devices used), empty rows are devices not used that day; {bands}."
        )
        section.panels.append(Panel(people.day_in_life_figure(day), guide))
    return section


def _switches(tables: t.Tables) -> Section:
    section = Section("device-switches", "Device switches")
    if tables.switches is None:
        section.skipped = _missing(tables, "trace.jsonl.gz", "truth.jsonl.gz")
        return section
    guide = (
        "Read a row: after a session on that device, which device did the same true person "
        "use next? Dark cells are the common hops; numbers are counts of switches."
    )
    section.panels.append(Panel(people.switch_matrix_figure(tables.switches), guide))
    return section


def _switch_days(tables: t.Tables) -> Section:
    section = Section("switching-per-day", "People switching devices per day")
    if not tables.switch_days:
        section.skipped = "summary.json has no realism.switch_by_day"
        return section
    guide = (
        "Of the people owning two or more personal devices (TVs and speakers are shared, so "
        "apart) who used one that day, the share who used two or more: every pick-up counts, "
        "brand session or not. No published line: Google's 98% (2012) counts 'sequential "
        "screeners', people already known to move between screens."
    )
    section.panels.append(Panel(people.switch_share_figure(tables.switch_days), guide))
    return section


def _funnel(tables: t.Tables) -> Section:
    section = Section("funnel", "Journey funnel")
    rows = t.funnel(tables)
    if not rows:
        section.skipped = "no `funnel` block in summary.json or compare.json"
        return section
    guide = (
        "Blue is how many people reached each stage; grey is who was lost since the stage "
        "before. The biggest grey gap is where to act (abandoned cart, retargeting)."
    )
    section.panels.append(Panel(journey.funnel_figure(rows), guide))
    return section


def _journeys(tables: t.Tables) -> Section:
    section = Section("journeys", "Journeys to purchase")
    if not tables.journeys_source:
        section.skipped = _missing(tables, "journeys.jsonl", "trace.jsonl.gz")
        return section
    if tables.journeys_source == "trace.jsonl.gz":
        guide = (
            "Read left to right: the sessions (device · channel of the touch) a person went "
            "through before the session with the order; personalise along the top rows."
        )
        label = "session before the order (device · channel)"
    else:
        guide = (
            "Read left to right: each touchpoint (device · what the person did) on the way "
            "to the order, from the world's ground truth; personalise along the top rows."
        )
        label = "touchpoint before the order (device · action)"
    figure = journey.journeys_figure(tables.journeys, label)
    section.panels.append(Panel(figure, guide))
    return section


def _attribution(tables: t.Tables) -> Section:
    section = Section("attribution", "Channel attribution")
    if tables.trace is None:
        section.skipped = _missing(tables, "trace.jsonl.gz", "truth.jsonl.gz")
        return section
    guide = (
        "Bars are orders credited to the last channel (push, email, campaign link) that touched "
        "the buyer within 7 days, 'direct' when none did; the red line is their running share "
        "and where it crosses the dotted 80% line are the few channels that bring most orders."
    )
    section.panels.append(Panel(journey.attribution_figure(tables.channels), guide))
    return section


def _journey_metrics(tables: t.Tables) -> Section:
    section = Section("journey-metrics", "Journey metrics")
    panels, section.rows, section.skipped = journey_parts(tables.summary)
    section.panels = [Panel(figure, guide) for figure, guide in panels]
    return section


def _stitching(tables: t.Tables) -> Section:
    section = Section("stitching", "Identity stitching")
    table = t.stitching(tables.summary)
    if table is None:
        section.skipped = "no `stitching` block in summary.json"
        return section
    guide = (
        "Dots further right are better (1.0 is perfect); the dashed line is the 0.95 target. "
        "Over-merges fuse two people (risky), under-merges split one person."
    )
    if table.definitions:
        levels = " ".join(f"{text[:1].upper()}{text[1:]}." for text in table.definitions.values())
        guide = (
            f"{levels} Dots further right are better (1.0 is perfect); the dotted line is the "
            "person-level target 0.90, the dashed line the household-level target 0.95. "
            "Over-merges fuse two people (risky), under-merges split one person."
        )
    section.panels.append(Panel(engine.stitching_figure(table, tables.profiles), guide))
    section.rows = [(k, fmt(v)) for k, v in table.extras.items()]
    return section


STITCHING_COSTS = {
    "split_profile_repeats": "split_profile_repeats (a campaign reaching one person on two "
    "devices within 60 s because they are on two profiles)",
    "fused_profile_sends": "fused_profile_sends (sent from a profile holding two or more "
    "people's devices to someone other than its person)",
}


def _messages(tables: t.Tables) -> Section:
    section = Section("messages", "Message outcomes")
    block = tables.summary.get("messaging") if tables.summary else None
    if isinstance(block, dict):
        shown = {k: v for k, v in block.items() if k not in ("experiments", "programme")}
        section.rows = [(STITCHING_COSTS.get(k, k), fmt(v)) for k, v in _flat(shown)]
        line = programme_row("programme lift vs global control", block.get("programme"))
        section.rows += [line] if line is not None else []
    if tables.messages is None:
        section.skipped = _missing(tables, "messages.jsonl")
        return section
    guide = (
        "Green is sent; every other colour is a suppression and its reason (quiet hours, "
        "caps, consent, dedup, control group); '(none chosen)' is a message suppressed before "
        "a channel and device were picked."
    )
    section.panels.append(Panel(engine.messages_figure(tables.messages), guide))
    return section


def _experiments(tables: t.Tables) -> Section:
    section = Section("experiments", "Experiments")
    if not tables.variants:
        section.skipped = "no variants in compare.json or summary.json `experiments`"
        return section
    guide = (
        "A variant whose interval does not reach its campaign's dotted control line differs "
        "for real; intervals that overlap the control's mean the run cannot tell them apart."
    )
    section.panels.append(Panel(engine.experiments_figure(tables.variants), guide))
    section.rows = [
        (f"{v.campaign}: {v.name}", f"{v.conversions:,} / {v.n:,} = {v.rate:.2%}")
        for v in tables.variants
    ]
    section.rows += compare_rows(tables.compare)
    return section


def _score_your_stack(tables: t.Tables) -> Section:
    """The loop that scores another identity graph on this run, with this run's folder."""
    section = Section("score-your-stack", "Score your own stack")
    run = shlex.quote(str(tables.run_dir))
    warehouse = shlex.quote(str(tables.run_dir / "warehouse.duckdb"))
    section.rows = [
        ("1. run", f"hopsim run SCENARIO.toml --out {run}  (or: hopsim loadtest --host URL)"),
        ("2. export", f"hopsim export {run} --to {warehouse}"),
        (
            "3. your model",
            f"your identity model over {warehouse}, a table of "
            "(identifier_type, identifier, profile_id)",
        ),
        ("4. score", f"hopsim score {run} --profiles {warehouse}:TABLE --report"),
        (
            "score.json compares",
            "your profiles against this run's truth: person level first "
            "(the headline), household level beside it, as in the stitching section",
        ),
    ]
    return section


def _load(tables: t.Tables) -> Section:
    section = Section("load-test", "Load test")
    if tables.load is None and tables.load_series is None:
        section.skipped = _missing(tables, "loadtest.json")
        return section
    if tables.load is not None:
        guide = (
            "Blue is latency from when a request was sent; orange from when it was due. "
            "A large orange-blue gap means the generator fell behind (coordinated omission)."
        )
        section.panels.append(Panel(load.percentiles_figure(tables.load), guide))
    if tables.load_series is not None:
        guide = (
            "Flat throughput with flat latency is healthy; rising p99 or schedule lag while "
            "throughput stays flat means the server or the generator is saturating."
        )
        section.panels.append(Panel(load.timeseries_figure(tables.load_series), guide))
    return section


def _realism(tables: t.Tables) -> Section:
    section = Section("simulated-vs-published", "Simulated vs published")
    if not tables.realism:
        section.skipped = "summary.json has no realism.figures"
        return section
    guide = (
        "Each line is one published figure: the grey bar is the band its source supports, the "
        "dot what the simulated people did. Green: within, the value lies inside the band (the "
        "headline count). The black whisker is the value's 95% sampling interval at this run's "
        "sample size n (Wilson's for a proportion); amber: not within, but consistent, the "
        "interval overlaps the band, so the miss is no larger than the run's own sampling noise. "
        "Red: neither. A gear before a name marks a fitted row: a free parameter, named at the "
        "right, was set so this row lands (calibration, not validation). The rows, their "
        "definitions, n, interval and sources are realism.figures in summary.json."
    )
    section.panels.append(Panel(realism.realism_figure(tables.realism), guide))
    return section


def _missing(tables: t.Tables, *names: str) -> str:
    absent = [name for name in names if not (tables.run_dir / name).is_file()]
    return f"{', '.join(absent or names)} not in the run folder"


def _flat(block: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in block.items():
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{key}.")
        elif not isinstance(value, list):
            out.append((prefix + key, value))
    return out


BUILDERS: tuple[Callable[[t.Tables], Section], ...] = (
    _day_in_life,
    _switches,
    _switch_days,
    _realism,
    _funnel,
    _journeys,
    _attribution,
    _journey_metrics,
    _stitching,
    _messages,
    _experiments,
    _load,
    _score_your_stack,
)
