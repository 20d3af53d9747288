""" "My holding": the cross-border protection matrix and dated timeline for one investor's holding.

Built from a curated layer (bot/data/holdings.yaml) that names, per concern and side, the corpus sentence that
answers it and the holdings it reaches; never from free retrieval. A cell with no matching entry stays missing.
`models` holds the holding and report, `layer` parses and checks the curated layer, `build` makes the matrix
and timeline, and `text` reads a holding from questions and prints a report.
"""

from bot.holding.build import add_months, build_cell, build_holding, build_timeline, citable, linked
from bot.holding.layer import (
    Citation,
    Entry,
    Event,
    Layer,
    bundled_layer,
    check_citation,
    check_layer,
    find_section,
    load_layer,
    parse_layer,
)
from bot.holding.models import (
    ASSET_LABELS,
    CONCERNS,
    SIDES,
    Cell,
    Holding,
    HoldingError,
    HoldingQuote,
    HoldingReport,
    HoldingRequest,
    TimelineEvent,
)
from bot.holding.text import describe_holding, holding_text, prefill

__all__ = [
    "ASSET_LABELS",
    "CONCERNS",
    "SIDES",
    "Cell",
    "Citation",
    "Entry",
    "Event",
    "Holding",
    "HoldingError",
    "HoldingQuote",
    "HoldingReport",
    "HoldingRequest",
    "Layer",
    "TimelineEvent",
    "add_months",
    "build_cell",
    "build_holding",
    "build_timeline",
    "bundled_layer",
    "check_citation",
    "check_layer",
    "citable",
    "describe_holding",
    "find_section",
    "holding_text",
    "linked",
    "load_layer",
    "parse_layer",
    "prefill",
]
