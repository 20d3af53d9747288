"""What a corpus document may say: jurisdictions, statuses, document types, topics, publishers, official domains."""

from __future__ import annotations

from typing import get_args
from urllib.parse import urlparse

from bot.types import DocType, Jurisdiction, Status

# The allowed values are the answer contract's Literal types (bot.types), so the two cannot drift apart.
JURISDICTIONS: tuple[str, ...] = get_args(Jurisdiction)
STATUSES: tuple[str, ...] = get_args(Status)
DOC_TYPES: tuple[str, ...] = get_args(DocType)


TOPICS = frozenset(
    [
        "protection",
        "compensation",
        "complaints",
        "tax",
        "reporting",
        "promotions",
        "risk_warnings",
        "cooling_off",
        "registration",
        "authorisation",
        "custody",
        "staking",
        "lending",
        "scams",
        "stablecoins",
        "redemption",
        "reserves",
        "insolvency",
        "aml",
        "travel_rule",
        "derivatives",
        "etps",
        "regime",
        "disclosures",
        "market_abuse",
        "securities_status",
        "deposit_insurance",
        "banking",
        "mining",
        "meme_coins",
        "defi",
        "residence",
        "foreign_accounts",
        "enforcement",
        "property_law",
        "standards",
        "cross_border",
    ]
)


PUBLISHERS: dict[str, str] = {
    **{
        p: "UK"
        for p in (
            "FCA",
            "HM Treasury",
            "Bank of England",
            "PRA",
            "HMRC",
            "FOS",
            "FSCS",
            "PSR",
            "UK Parliament",
            "Law Commission",
            "Action Fraud",
            "Report Fraud",
        )
    },
    **{
        p: "US"
        for p in (
            "SEC",
            "CFTC",
            "US Congress",
            "US Treasury",
            "FinCEN",
            "IRS",
            "FDIC",
            "OCC",
            "Federal Reserve",
            "NCUA",
            "SIPC",
            "FINRA",
            "CFPB",
            "NYDFS",
            "FBI",
            "FTC",
            "California DFPI",
            "White House",
            "US Courts",
        )
    },
    **{p: "INTL" for p in ("OECD", "IOSCO", "FSB", "FATF", "BIS", "HM Treasury and US Treasury")},
}


OFFICIAL_DOMAINS = (
    "fca.org.uk",
    "gov.uk",
    "bankofengland.co.uk",
    "financial-ombudsman.org.uk",
    "fscs.org.uk",
    "psr.org.uk",
    "legislation.gov.uk",
    "parliament.uk",
    "lawcom.gov.uk",
    "actionfraud.police.uk",
    "sec.gov",
    "cftc.gov",
    "congress.gov",
    "treasury.gov",
    "fincen.gov",
    "uscourts.gov",
    "irs.gov",
    "fdic.gov",
    "occ.gov",
    "occ.treas.gov",
    "federalreserve.gov",
    "ncua.gov",
    "sipc.org",
    "finra.org",
    "consumerfinance.gov",
    "dfs.ny.gov",
    "ic3.gov",
    "fbi.gov",
    "ftc.gov",
    "dfpi.ca.gov",
    "federalregister.gov",
    "govinfo.gov",
    "uscode.house.gov",
    "ecfr.gov",
    "whitehouse.gov",
    "oecd.org",
    "iosco.org",
    "fsb.org",
    "fatf-gafi.org",
    "bis.org",
    "reportfraud.police.uk",
    "police.uk",
    "investor.gov",
    "comptrollerofthecurrency.gov",
)


REQUIRED = ("id", "title", "jurisdiction", "publisher", "doc_type", "url", "published", "status", "reviewed", "topics")


OPTIONAL = ("reference", "effective", "until", "superseded_by", "evidence_date")


def official_domain(url: str) -> bool:
    """True when url is https and its host is (a subdomain of) an official domain."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    return parsed.scheme == "https" and any(host == d or host.endswith("." + d) for d in OFFICIAL_DOMAINS)
