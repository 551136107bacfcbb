"""The colours, dash styles and identity of the experiments on the compare page.

Shared by every tab of the compare page (Scalars, Plots, Debug samples, Details,
Hyperparameters, Parallel coordinates, Scatter, the HTML export) so an
experiment has the same colour everywhere. No Qt here: colours are "#rrggbb"
strings, dash styles names of :data:`DASH_STYLES`; the UI maps them to pens.

The palette is Glasbey-like: precomputed by greedy max-min distance in CIELAB
over an sRGB grid (lightness 30..78 so every colour reads on white, chroma > 25
so none is grey), starting from the five first colours of the classic category
palette. Each colour is as far as possible from all the earlier ones, so
neighbours in the list are clearly different. Beyond ``SOLID_COUNT``
experiments the colours alone get close, so the dash style changes every
``SOLID_COUNT`` experiments: colour + dash tell 100 curves apart.

Colours the user picked (the header's "Edit colour") are saved per user in the
Preference table under :data:`COLOUR_PREFERENCE_KEY`, keyed by experiment id.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from exptable_desktop.paths import current_user
from exptable_desktop.store import bulk

MAX_EXPERIMENTS = 100

PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#0000fc", "#604824", "#fc18f0",
    "#24ccc0", "#ccc000", "#fca8a8", "#fc2490", "#0054f0", "#b4c084", "#842448", "#006054",
    "#840ca8", "#a8780c", "#00d800", "#245400", "#c0b4e4", "#30ccfc", "#fc78f0", "#843000",
    "#0084fc", "#00d890", "#f06078", "#9c0078", "#a824fc", "#fc9cd8", "#78900c", "#90cc00",
    "#f0b478", "#fc8460", "#009060", "#785478", "#f0a800", "#a86054", "#18489c", "#a86cfc",
    "#fc0000", "#489ca8", "#90cc6c", "#e40cb4", "#607848", "#fc0060", "#4818cc", "#cc5490",
    "#849cf0", "#900c24", "#9c8448", "#006078", "#00d860", "#543cb4", "#c04800", "#606000",
    "#ccc054", "#c07890", "#b40054", "#d8a8fc", "#78cc9c", "#6c3078", "#304878", "#54903c",
    "#cc48e4", "#fc9c48", "#c06c30", "#c054b4", "#609c84", "#00a8fc", "#78a8d8", "#fc5424",
    "#9084fc", "#845418", "#cc5448", "#a8c030", "#fc60c0", "#24b400", "#b46ca8", "#8478b4",
    "#006030", "#783030", "#78cc48", "#903ce4", "#c09c00", "#cc84f0", "#fc84a8", "#cc9078",
    "#9c0c00", "#909c48", "#842490", "#cc2448", "#84ccc0", "#006c00", "#606ccc", "#48b460",
    "#78a86c", "#f0b454", "#908418", "#e4a8cc",
)

SOLID = "solid"
DASH = "dash"
DOT = "dot"
DASH_DOT = "dashdot"
DASH_DOT_DOT = "dashdotdot"
DASH_STYLES: tuple[str, ...] = (SOLID, DASH, DOT, DASH_DOT, DASH_DOT_DOT)
# How many experiments are drawn solid before the dash style changes.
SOLID_COUNT = 20

COLOUR_PREFERENCE_KEY = "compare.colours"
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def palette_colour(index: int) -> str:
    """The colour of the ``index``-th compared experiment (wraps after the palette's end)."""
    return PALETTE[index % len(PALETTE)]


def dash_style(index: int) -> str:
    """The dash style of the ``index``-th compared experiment: solid for the first SOLID_COUNT."""
    return DASH_STYLES[(index // SOLID_COUNT) % len(DASH_STYLES)]


def is_hex_colour(text: str) -> bool:
    return isinstance(text, str) and bool(_HEX_COLOUR.match(text))


@dataclass(frozen=True)
class ComparedExperiment:
    """One experiment on the compare page, as every tab draws it.

    ``colour`` is "#rrggbb"; ``dash`` one of :data:`DASH_STYLES`; ``hidden`` is
    True when the user hid it from the shared legend (tabs then leave it out of
    their plots and may grey it in tables).
    """

    id: str
    name: str
    colour: str
    dash: str = SOLID
    hidden: bool = False

    def with_colour(self, colour: str) -> "ComparedExperiment":
        return replace(self, colour=colour)

    def with_hidden(self, hidden: bool) -> "ComparedExperiment":
        return replace(self, hidden=hidden)


def assign(pairs, custom_colours: dict[str, str] | None = None, hidden_ids=(),
           previous: dict[str, int] | None = None) -> tuple[list[ComparedExperiment], dict[str, int]]:
    """``(id, name)`` pairs in page order -> experiments with their colour and dash.

    ``previous`` maps experiment id -> palette slot from the last assignment:
    an experiment keeps its slot (so its colour) when others are added,
    removed or reordered; a new one takes the lowest free slot. A saved custom
    colour replaces the slot's colour, not its dash. Returns the experiments
    and the new id -> slot map to pass back next time.
    """
    custom = custom_colours or {}
    hidden = set(hidden_ids)
    ids = [exp_id for exp_id, _ in pairs]
    slots = {i: s for i, s in (previous or {}).items() if i in set(ids)}
    used = set(slots.values())
    free = (n for n in range(len(ids) + len(used) + 1) if n not in used)
    for exp_id in ids:
        if exp_id not in slots:
            slots[exp_id] = next(free)
    experiments = []
    for exp_id, name in pairs:
        slot = slots[exp_id]
        colour = custom.get(exp_id, "")
        experiments.append(ComparedExperiment(exp_id, name, colour if is_hex_colour(colour) else palette_colour(slot),
                                              dash_style(slot), exp_id in hidden))
    return experiments, slots


# ---- Saved colours (per user, in the Preference table) --------------------------------------

def load_custom_colours() -> dict[str, str]:
    """Experiment id -> the colour the current user picked for it."""
    saved = bulk.get_preference(current_user(), COLOUR_PREFERENCE_KEY, {})
    if not isinstance(saved, dict):
        return {}
    return {str(k): v.lower() for k, v in saved.items() if is_hex_colour(v)}


def save_custom_colour(experiment_id: str, colour: str | None) -> None:
    """Remember ``colour`` for the experiment; ``None`` forgets it (back to the palette)."""
    if colour is not None and not is_hex_colour(colour):
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    saved = bulk.get_preference(current_user(), COLOUR_PREFERENCE_KEY, {})
    saved = dict(saved) if isinstance(saved, dict) else {}
    if colour is None:
        saved.pop(experiment_id, None)
    else:
        saved[experiment_id] = colour.lower()
    bulk.set_preference(current_user(), COLOUR_PREFERENCE_KEY, saved)
