"""The "My holding" layer against the bundled corpus, and the matrix and timeline built from it."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from bot.corpus import load_corpus
from bot.holding import (
    CONCERNS,
    Holding,
    HoldingError,
    build_holding,
    bundled_layer,
    check_layer,
    holding_text,
    parse_layer,
    prefill,
)
from bot.types import Document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
AS_OF = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    return {d.id: d for d in load_corpus(CORPUS)}


def holding(**values: object) -> Holding:
    base: dict[str, object] = {
        "residence": "UK",
        "citizenship": "UK",
        "platform": "US",
        "platform_regulated": True,
        "asset": "usd_stablecoin",
        "custody": "exchange",
    }
    return Holding(**(base | values))  # type: ignore[arg-type]


def test_every_layer_entry_cites_an_existing_sentence_with_the_right_status(documents: dict[str, Document]) -> None:
    assert check_layer(bundled_layer(), documents) == []


ENTRY = """
entries:
  - concern: platform_failure
    side: UK
    applies: false
    reason: r
    doc: fscs-crypto-not-protected
    section: {section}
    status: {status}
    quote: {quote}
"""
FSCS_QUOTE = (
    "The FSCS does not protect cryptoassets such as bitcoin, ether or stablecoins held with a crypto exchange, "
    "broker or wallet provider."
)


@pytest.mark.parametrize(
    ("section", "status", "quote", "problem"),
    [
        ("crypto-is-not-protected", "in_force", FSCS_QUOTE, None),
        ("crypto-is-not-protected", "not_yet_in_force", FSCS_QUOTE, "disagrees"),
        ("no-such-section", "in_force", FSCS_QUOTE, "has no section"),
        ("crypto-is-not-protected", "in_force", "The FSCS protects crypto.", "is not in"),
        ("cross-border", "in_force", FSCS_QUOTE, "is not in"),
    ],
)
def test_check_layer_names_a_stale_entry(
    documents: dict[str, Document], section: str, status: str, quote: str, problem: str | None
) -> None:
    layer = parse_layer(ENTRY.format(section=section, status=status, quote=quote))
    problems = check_layer(layer, documents)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0] and "holdings.yaml:3" in problems[0]


def test_check_layer_names_a_removed_document() -> None:
    layer = parse_layer(ENTRY.format(section="crypto-is-not-protected", status="in_force", quote=FSCS_QUOTE))
    assert "not in the corpus" in check_layer(layer, {})[0]


@pytest.mark.parametrize(
    "text",
    [
        "entries:\n  - {concern: nope, side: UK, applies: false, reason: r}\n",
        "entries:\n  - {concern: tax, side: UK, applies: true, reason: r}\n",  # applies without a citation
        "entries:\n  - {concern: tax, side: UK, applies: false, reason: r, when: {residence: [Mars]}}\n",
        "entries:\n  - {concern: tax, side: UK, applies: false, reason: r, when: {colour: [red]}}\n",
        "events:\n  - {date: soon, text: t}\n",
    ],
)
def test_malformed_layer_is_a_clear_error(text: str) -> None:
    with pytest.raises(HoldingError, match=r"holdings\.yaml:\d+"):
        parse_layer(text)


def test_event_dates_are_stated_by_their_sentence(documents: dict[str, Document]) -> None:
    text = """
events:
  - date: 2027-01-19
    text: t
    doc: us-genius-act
    section: overview-and-timing
    status: not_yet_in_force
    quote: >-
      The GENIUS Act takes effect on the earlier of 18 January 2027 (18 months after enactment) or 120 days
      after the primary federal stablecoin regulators issue final implementing regulations.
"""
    assert "does not state the event's date (19 January 2027)" in check_layer(parse_layer(text), documents)[0]


def _docs(report_cell: object) -> list[str]:
    return [q.doc_id for q in report_cell.quotes]  # type: ignore[attr-defined]


def test_uk_resident_with_usdc_on_a_us_exchange(documents: dict[str, Document]) -> None:
    report = build_holding(holding(), documents, AS_OF)
    matrix = report.matrix
    assert list(matrix) == list(CONCERNS)
    assert matrix["platform_failure"]["UK"].state == "nothing_applies"
    assert "fscs-crypto-not-protected" in _docs(matrix["platform_failure"]["UK"])
    assert _docs(matrix["platform_failure"]["US"])[0] == "sipc-crypto-not-covered"
    assert "SIPC" in matrix["platform_failure"]["gap"].quotes[0].text
    assert matrix["tax"]["UK"].state == "applies" and matrix["tax"]["US"].state == "nothing_applies"
    assert _docs(matrix["complaints"]["US"]) == ["sec-investor-alert-relationship-investment-scams"] + [
        "cftc-customer-advisories-crypto-fraud"
    ]
    assert matrix["marketing"]["gap"].state == "missing" and matrix["marketing"]["gap"].quotes == []
    # Before the GENIUS Act takes effect, the US issuer cell says so; from its effective date it applies.
    assert matrix["issuer_failure"]["US"].applies is False
    assert "Until the GENIUS Act takes effect" in matrix["issuer_failure"]["US"].quotes[0].text
    later = build_holding(holding(), documents, dt.date(2027, 2, 1)).matrix["issuer_failure"]["US"]
    assert later.applies is True and later.quotes[0].anchor == "if-the-issuer-fails"
    assert later.quotes[0].status == "not_yet_in_force" and "applies from 2027-01-18" in later.quotes[0].status_label


def test_us_citizen_in_the_uk_owes_both_and_the_gap_says_so(documents: dict[str, Document]) -> None:
    report = build_holding(holding(citizenship="US", platform="UK", asset="crypto"), documents, AS_OF)
    tax = report.matrix["tax"]
    assert tax["UK"].applies and tax["US"].applies
    assert "double taxation" in tax["gap"].quotes[0].text
    assert _docs(report.matrix["tax_reporting"]["US"]) == ["irs-digital-assets-faq", "irs-form-8938-fatca-crypto"]
    assert "Form 1099-DA" in report.matrix["tax_reporting"]["US"].quotes[0].text  # a UK platform sends none
    assert report.matrix["issuer_failure"]["UK"].state == "nothing_applies"
    assert report.matrix["issuer_failure"]["UK"].quotes == []  # bitcoin has no issuer: a structural reason


def test_no_link_means_nothing_applies_with_the_reason(documents: dict[str, Document]) -> None:
    report = build_holding(holding(residence="US", citizenship="US", platform="US"), documents, AS_OF)
    for concern in CONCERNS:
        cell = report.matrix[concern]["UK"]
        assert cell.state == "nothing_applies", concern
        assert "you do not live in the UK, are not a UK citizen, and the platform is not in the UK" in cell.reason


def test_a_one_country_holding_has_no_gap_to_show(documents: dict[str, Document]) -> None:
    report = build_holding(holding(residence="US", citizenship="US", platform="US", asset="crypto"), documents, AS_OF)
    gap = report.matrix["tax"]["gap"]
    assert (
        gap.state == "nothing_applies"
        and gap.reason == "No cross-border gap: only US rules reach this holding on this point."
    )
    assert report.matrix["platform_failure"]["gap"].quotes  # a cited gap still shows when the layer names one


def test_documents_not_yet_published_on_as_of_are_never_cited(documents: dict[str, Document]) -> None:
    # Report Fraud replaced Action Fraud on 4 December 2025; on 1 June 2025 the digest cannot be cited.
    before = build_holding(holding(), documents, dt.date(2025, 6, 1))
    assert before.matrix["fraud_reporting"]["UK"].state == "missing"
    for row in before.matrix.values():
        for cell in row.values():
            assert all(documents[q.doc_id].published <= dt.date(2025, 6, 1) for q in cell.quotes)
    after = build_holding(holding(), documents, AS_OF)
    assert _docs(after.matrix["fraud_reporting"]["UK"]) == ["uk-report-fraud-service"] * 2


def test_jurisdictions_limit_the_columns(documents: dict[str, Document]) -> None:
    report = build_holding(holding(), documents, AS_OF, jurisdictions=["UK"])
    assert report.jurisdictions == ["UK"]
    assert all(list(row) == ["UK"] for row in report.matrix.values())


def test_timeline_window_and_past_marks(documents: dict[str, Document]) -> None:
    report = build_holding(holding(), documents, AS_OF)
    events = {(e.date, e.past) for e in report.timeline}
    assert (dt.date(2027, 1, 18), False) in events  # GENIUS Act effective date, coming
    assert (dt.date(2027, 2, 28), False) in events  # FCA application window closes
    assert (dt.date(2027, 10, 25), False) in events  # UK regime applies
    assert (dt.date(2026, 9, 30), True) in events  # window opened: past
    assert (dt.date(2027, 1, 31), False) in events and (dt.date(2028, 1, 31), False) in events  # Self Assessment
    assert all(dt.date(2025, 11, 28) <= d <= dt.date(2028, 11, 28) for d, _ in events)
    assert report.timeline == sorted(report.timeline, key=lambda e: (e.date, e.text))
    later = build_holding(holding(), documents, dt.date(2027, 3, 1))
    assert next(e for e in later.timeline if e.date == dt.date(2027, 1, 18)).past
    # A bitcoin holder on a UK platform gets no GENIUS Act event, but the UK CARF reporting date.
    uk_bitcoin = build_holding(holding(platform="UK", asset="crypto"), documents, AS_OF)
    dates = {e.date for e in uk_bitcoin.timeline}
    assert dt.date(2027, 1, 18) not in dates and dt.date(2027, 5, 31) in dates


@pytest.fixture(scope="module")
def every_report(documents: dict[str, Document]) -> list[object]:
    values = itertools.product(
        ["UK", "US", "elsewhere"],
        ["UK", "US", "both", "other"],
        ["UK", "US", "elsewhere"],
        [True, False, None],
        ["crypto", "usd_stablecoin", "gbp_stablecoin", "crypto_etn"],
        ["exchange", "self"],
    )
    keys = ("residence", "citizenship", "platform", "platform_regulated", "asset", "custody")
    return [build_holding(Holding(**dict(zip(keys, v, strict=True))), documents, AS_OF) for v in values]


def test_every_cell_of_every_holding_is_cited_or_says_why(
    every_report: list[object], documents: dict[str, Document]
) -> None:
    for report in every_report:
        for row in report.matrix.values():  # type: ignore[attr-defined]
            for cell in row.values():
                if cell.state == "applies":
                    assert cell.quotes, (report.holding, cell)  # type: ignore[attr-defined]
                assert cell.reason and len(cell.quotes) <= 2
                for quote in cell.quotes:
                    document = documents[quote.doc_id]
                    section = next(s for s in document.sections if s.anchor == quote.anchor)
                    assert quote.status == (section.status or document.status)
                    assert quote.url == document.url


def test_text_rendering_shows_states_quotes_and_the_timeline(documents: dict[str, Document]) -> None:
    text = holding_text(build_holding(holding(), documents, AS_OF))
    assert text.startswith("My holding, as of 2026-11-28")
    assert "If the platform fails" in text and "UK: NOTHING APPLIES." in text and "gap: MISSING." in text
    assert "2027-01-18 [coming] GENIUS Act" in text and "[past]" in text
    assert "not personal financial" in text


@pytest.mark.parametrize(
    ("questions", "values"),
    [
        ([], {}),
        (
            ["I live in Manchester and keep USDC on a US exchange"],
            {"residence": "UK", "platform": "US", "asset": "usd_stablecoin"},
        ),
        (
            ["I am an American living in London", "and my bitcoin in my own wallet?"],
            {"residence": "UK", "citizenship": "US", "asset": "crypto", "custody": "self"},
        ),
        (["Is my sterling stablecoin on a UK platform safe?"], {"platform": "UK", "asset": "gbp_stablecoin"}),
        (["Can I buy a crypto ETN in my ISA?"], {"asset": "crypto_etn"}),
    ],
)
def test_prefill_reads_the_holding_from_the_investors_words(questions: list[str], values: dict[str, str]) -> None:
    assert prefill(questions) == values


def test_fill_from_the_chat_reads_the_users_turns() -> None:
    from bot.server.holding_tab import _user_questions, fill_form

    messages = [
        {"role": "user", "content": "I am an American living in London"},
        {"role": "assistant", "content": "**What I understood:** ..."},
        {"role": "user", "content": "I keep USDC on a US exchange, what protects me?"},
    ]
    updates = fill_form(_user_questions(messages))
    assert [u.get("value") for u in updates] == ["UK", "US", "US", "A US-dollar stablecoin", None]
