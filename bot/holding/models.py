"""The holding, the report and its cells: the pydantic models of "My holding" and the fixed vocabulary."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.errors import BotError

Residence = Literal["UK", "US", "elsewhere"]


Citizenship = Literal["UK", "US", "both", "other"]


PlatformLocation = Literal["UK", "US", "elsewhere"]


Asset = Literal["crypto", "usd_stablecoin", "gbp_stablecoin", "crypto_etn"]


Custody = Literal["exchange", "self"]


Side = Literal["UK", "US", "gap"]


CellState = Literal["applies", "nothing_applies", "missing"]


CONCERNS: dict[str, str] = {
    "platform_failure": "If the platform fails",
    "issuer_failure": "If the issuer fails (stablecoin or ETN)",
    "complaints": "Complaints and ombudsman",
    "supervision": "Who supervises the platform",
    "tax": "Tax on gains and income",
    "tax_reporting": "Reporting to the tax authority",
    "marketing": "Marketing protections",
    "fraud_reporting": "Where to report fraud",
}


SIDES: tuple[str, ...] = ("UK", "US", "gap")


CONDITION_VALUES: dict[str, tuple[str, ...]] = {
    "residence": ("UK", "US", "elsewhere"),
    "citizenship": ("UK", "US", "other"),
    "platform": ("UK", "US", "elsewhere"),
    "platform_regulated": ("true", "false", "null"),
    "asset": ("crypto", "usd_stablecoin", "gbp_stablecoin", "crypto_etn"),
    "custody": ("exchange", "self"),
}


ASSET_LABELS = {
    "crypto": "bitcoin, ether or another unbacked cryptoasset",
    "usd_stablecoin": "a US-dollar stablecoin",
    "gbp_stablecoin": "a sterling stablecoin",
    "crypto_etn": "a crypto exchange-traded note (ETN)",
}


MAX_QUOTES = 2  # sentences per cell


PAST_MONTHS, COMING_MONTHS = 12, 24  # the timeline's window around as_of


MISSING_REASON = (
    "Not covered yet: the curated layer names no official sentence for this situation, so none is shown "
    "rather than a loosely related one."
)


MISSING_GAP_REASON = "Not covered yet: the curated layer names no cited gap between the two sides here."


LAYER_FILE = "holdings.yaml"


class HoldingError(BotError):
    """The holding layer (bot/data/holdings.yaml) is malformed."""

    code = "holding_layer_invalid"


class Holding(BaseModel):
    """One investor's holding: where they live, their citizenship, the platform, the asset and custody."""

    model_config = ConfigDict(extra="forbid")

    residence: Residence = Field(description="Where the investor lives.")
    citizenship: Citizenship = Field("other", description="The investor's citizenship (both = UK and US).")
    platform: PlatformLocation = Field(description="Where the platform (exchange, broker, wallet provider) is based.")
    platform_regulated: bool | None = Field(
        None,
        description="Whether the platform is registered or authorised (FCA for a UK platform; FinCEN/state/SEC/CFTC "
        "for a US one); null when unknown.",
    )
    asset: Asset = Field(description="What is held.")
    custody: Custody = Field("exchange", description="Held by the platform (exchange) or in the investor's own wallet.")


class HoldingRequest(Holding):
    """A holding and the date to assess it on (the POST /v1/holdings body)."""

    as_of: dt.date | None = Field(None, description="Assess as on this date (default: today).")
    jurisdictions: list[Literal["UK", "US"]] | None = Field(
        None, description="Only these columns (UK, US); default both, with the gap between them."
    )

    def holding(self) -> Holding:
        return Holding(**self.model_dump(exclude={"as_of", "jurisdictions"}))


class HoldingQuote(BaseModel):
    """One quoted corpus sentence with its citation."""

    text: str = Field(description="The sentence, quoted word for word from the corpus.")
    doc_id: str
    title: str
    publisher: str
    jurisdiction: str
    section: str
    locator: str
    anchor: str
    url: str
    status: str = Field(description="The section's status, or the document's: in_force, not_yet_in_force, ...")
    status_label: str = Field(description="The status for a reader, e.g. 'not yet in force, applies from 2027-10-25'.")
    published: dt.date
    effective: dt.date | None = None


class Cell(BaseModel):
    """One concern on one side (UK, US, or the gap between them)."""

    concern: str
    side: Side
    state: CellState = Field(description="applies | nothing_applies | missing (the layer has nothing cited).")
    applies: bool | None = Field(
        description="True: something reaches this holding; false: nothing does; null: missing."
    )
    reason: str = Field(description="How the rules do or do not reach this holding (our words, not a quote).")
    quotes: list[HoldingQuote] = Field(default_factory=list)


class TimelineEvent(BaseModel):
    """A dated event that reaches the holding."""

    date: dt.date
    text: str
    past: bool = Field(description="True when the date is before as_of.")
    origin: Literal["layer", "front_matter"] = Field(
        description="layer: the curated events list; front_matter: a cited document's effective date."
    )
    quote: HoldingQuote


class HoldingReport(BaseModel):
    """The matrix and timeline for one holding on one date."""

    holding: Holding
    as_of: dt.date
    jurisdictions: list[str]
    summary: str = Field(description="The holding in words.")
    matrix: dict[str, dict[str, Cell]] = Field(description="concern -> side (UK, US, gap) -> cell.")
    timeline: list[TimelineEvent]
    notice: str
