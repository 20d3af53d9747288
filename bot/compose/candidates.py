"""Candidate sentences for the extractive composer: each sentence of the retrieved evidence with its score
(similarity, word overlap, the chunk's fused rank, its section's investor questions, the kind of
sentence the question asks for), and the checks on who a sentence is written for and on repeats."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from bot.analysis.patterns import _place_pattern, _us_match
from bot.analysis.vocabulary import OTHER_COUNTRIES, OTHER_PLACES
from bot.index import Index
from bot.text import matches, terms
from bot.types import Evidence, Profile

# A "next step" sentence tells the reader something they can do: a modal + action verb, a
# "report/complain to" phrase, or a named place to check or report.
ACTION = re.compile(
    r"\b(can|should|must|may|need to|needs to|has to|have to)\s+(first\s+|also\s+|still\s+)?"
    r"(check|search|report|complain|contact|call|visit|use|file|submit|look up|verify|refer|ask|apply|"
    r"tell|declare|claim|keep|get|seek|read|register)\b"
    r"|\b(report|complain|refer)\w*\s+(it\s+|them\s+|the \w+\s+)?to\b"
    r"|\b(warning list|brokercheck|reportfraud|report fraud|ic3\.gov|sec\.gov/tcr|cftc\.gov|consumerfinance\.gov|"
    r"financial services register|firm checker|investor\.gov)\b",
    re.I,
)
NOT_ACTION = re.compile(
    r"\b(found that|research|survey|believed|thought that|per cent)\b|%", re.I
)  # findings, not steps
NUMERIC_QUESTION = re.compile(
    r"\bhow (much|many|long|soon)\b|\bwhen\b|\blimit|\bthreshold|\bcap\b|\bdate|\bdeadline|\bmaximum|\bup to\b", re.I
)
HAS_NUMBER = re.compile(r"\d")
# A yes/no question ("is my ether covered?") is answered by a sentence that says yes or no.
YES_NO_QUESTION = re.compile(
    r"^\s*(?:\w+,\s*)?(is|are|am|was|were|do|does|did|can|could|will|would|should|must|has|have|may|might)\b", re.I
)
POLAR = re.compile(
    r"\b(not|no|never|cannot|can't|does not|do not|is not|are not|isn't|aren't|doesn't|don't|only|must|"
    r"covered|protected|protects|allowed|banned|illegal|required|applies|exempt)\b",
    re.I,
)
# A sentence written for US citizens (abroad) ranks lower when the investor has said nothing about who they
# are: reviewers found such caveats the largest group of off-topic bullets.
PERSONA_PENALTY = 0.15
# "Before 30 October 2024, UK Capital Gains Tax was charged at 10%": how a rule used to be. It ranks below
# what the rule is, so that it never leads an answer about today.
HISTORY = re.compile(
    r"^(?:Before|Until|Prior to|Up to)\b[^,.]{3,40}\b(?:19|20)\d\d\b,[^.]*\b(?:was|were|had|used to)\b"
)
HISTORY_PENALTY = 0.25
# How a bill got through ("passed by 68 to 30 on 17 June 2025") is history too, unless the question asks
# about a bill's progress ("is it law yet?", "when was it signed?").
VOTES = re.compile(r"\b(?:passed|approved|voted)\b[^.]*\bby (?:\d+ (?:votes )?to \d+|a vote of)\b", re.I)
ASKS_PROGRESS = re.compile(
    r"\b(?:law yet|become law|became law|passed|pass|vote[sd]?|signed|enact\w*|status|pending|progress|congress|senate|"
    r"house|parliament)\b",
    re.I,
)
# "What is the GENIUS Act?": a definition question is answered by the sentence that says what the thing is.
DEFINITION_QUESTION = re.compile(
    r"^\s*(?:so\s+|and\s+|ok\s+)?(?:what(?:'s| is| are)\s+(?:a |an |the )?[\w$ .'()-]{2,60}\??\s*$"
    r"|what does [\w$ .'()-]{2,60} mean\b|(?:explain|define)\b)",
    re.I,
)
DEFINES = re.compile(
    r"\b(?:is|are) (?:a|an) (?!\d)\w+|\bmeans\b|\brefers to\b"
    r"|\b(?:sets up|creates|establishes|is the UK's|is the US)\b",
    re.I,
)
OVERLAP_WEIGHT = 0.25  # weight of the share of question words a sentence holds
CHUNK_PRIOR = 0.3  # weight of the chunk's fused rank (hybrid agreement) in a sentence's score
QUESTION_PRIOR = 2.0  # weight of how close the section's investor questions ('Q:' lines) are to the question
# "Which IRS forms do the gains go on?", "where does that sale go on my return?": a sentence that names a form.
FORM_QUESTION = re.compile(
    r"\b(?:which|what)\s+(?!is\b|are\b|was\b|does\b)(?:\w+\s+){0,2}(?:forms?|schedules?|boxe?s?|pages?)\b"
    r"|\bwhere\s+(?:do|does|should|would)\b[^?.!]{0,50}\b(?:go|put|report|enter|declare)\b",
    re.I,
)
# "where do I report it?", "how do I check if they're legit?", "who do I contact?": answered by a sentence that
# gives the place to go (a web address or a phone number), not only the body's name.
CONTACT_QUESTION = re.compile(
    r"\b(?:where|how|who)\b[^?.!]{0,40}\b(?:report|complain|contact|check|call|ring|phone|verify|tell)\w*\b", re.I
)
GIVES_CONTACT = re.compile(
    r"\b[\w-]+(?:\.[\w-]+)*\.(?:gov|org|uk|com)(?:/[\w./-]*)?\b"  # a web address
    r"|\b0\d{3} \d{3} \d{4}\b|\b1-\d{3}-\d{3}-\d{4}\b|\b\d{3}\b(?= or online)"  # a phone number
)
NAMES_A_FORM = re.compile(r"\bForms? [0-9A-Z]|\bSchedule [A-Z0-9]\b|\bSA\d{3}\b|\bcapital gains (?:pages|summary)\b")
# A "Cross-border" section's sentence, for a question about one side that names nothing abroad: those sections
# are written for holdings that cross the border and match many questions on their general words.
CROSS_BORDER_PENALTY = 0.2
# A sentence about scams and getting money back from a scammer (payments cannot be reversed, submit a tip)
# does not answer what happens to holdings when a firm fails: ranked down for a question about a firm
# failing that says nothing of a scam ("If Coinbase went bust would I get my money back?").
SCAM_RECOVERY = re.compile(
    r"\bscam\w*|\bfraud\w*|\bscammer|\bcannot be reversed\b|\bsubmit a tip\b|\bIC3\b|\bReport Fraud\b", re.I
)
SCAM_WORDS = re.compile(r"\bscam\w*|\bfraud\w*|\bconn?ed\b|\btrick\w*|\bstole|\bstolen|\bhack\w*|\bfake\b", re.I)
SCAM_PENALTY = 0.15
FIRM_FAILURE = re.compile(
    r"\b(?:go(?:es|ne)?|went|going) (?:bust|under)\b|\bcollaps\w*|\bbankrupt\w*|\binsolven\w*|\bfold(?:s|ed)?\b"
    r"|\b(?:exchange|platform|firm|company|broker\w*|custodian|app|issuer|bank)\b[^.?!]{0,40}\bfail(?:s|ed|ure)?\b",
    re.I,
)
TYPE_BONUS = 0.06  # a sentence of the kind the question asks for: a figure or date, or a yes or no
# A sentence is on the question's subject when it shares a word with it (or its official wording),
# when it is close in meaning, or when its section answers an investor question close to this one.
MIN_ON_TOPIC_SIMILARITY = 0.45
NEAR_REPEAT = 0.92  # cosine above which a sentence repeats one already quoted
# Words every sentence of this corpus shares with every question; sharing only these says nothing.
GENERIC_TERMS = frozenset(
    terms(
        "crypto cryptoasset cryptoassets cryptocurrency cryptocurrencies asset assets digital uk us united kingdom "
        "states firm firms exchange exchanges platform platforms investor investors rule rules money people customer "
        "customers"
    )
)
MIN_ON_TOPIC_QUESTION = 0.6


# Sentences written for one kind of investor. When the question says who the investor is and they are
# not that kind, such a sentence answers someone else's question.
# ABOUT_US_CITIZENS leaves out "US taxpayers": for a question about the US side only, "US taxpayers report gains
# on Form 8949" is the rule the investor asked for, not one written for someone else.
ABOUT_US_CITIZENS = re.compile(
    r"\b(?:US|U\.S\.) (?:citizens?|persons?|expats?)\b|\bAmericans?\b|\bgreen card|\btaxpayers (?:living )?abroad\b",
    re.I,
)
FOR_US_CITIZENS = re.compile(rf"{ABOUT_US_CITIZENS.pattern}|\b(?:US|U\.S\.) taxpayers?\b", re.I)
FOR_UK_RESIDENTS = re.compile(
    r"(?<!non-)(?<!non )\bUK[- ](?:residents?|taxpayers?)\b|\b(?<!not )(?:resident|living) in the UK\b", re.I
)
# The investor moving country, not moving coins ("move half my bitcoin to her", "moving funds to a wallet").
LEAVING = re.compile(
    r"\b(?:mov(?:e|ed|ing)|relocat\w*|emigrat\w*|leav(?:e|ing)|left)\b(?!\s+(?:the\s+)?(?:my|our|half|all|some|it|them|those|"
    r"these|coins?|crypto|funds?|money|bitcoin|btc|eth|ether|usdc|usdt|tokens?|assets?|savings)\b)|non-?resident",
    re.I,
)
# Sentences for people who do not live in the UK ("a non-UK resident is generally not liable..."): they
# answer someone else's question when the investor lives in the UK.
FOR_NON_UK_RESIDENTS = re.compile(
    r"\bnon-?UK[- ]residents?\b|\b(?:is|are) not (?:UK[- ]resident|resident in the UK)\b|\bnon-residents?\b"
    r"|\bwho (?:has |have )?(?:moves|move|moved|leaves|leave|left) (?:abroad|the UK)\b|\btemporary non-residence\b"
    r"|\b(?:living|who lives?) (?:outside the UK|abroad)\b",
    re.I,
)
# Notes written for someone in the UK ("A UK resident who used a US crypto lender's earn product..."), to a
# question about the US side that says nothing of the UK (FOR_UK_RESIDENTS, above, finds such words anywhere
# in a sentence; this finds a sentence addressed to such a person).
NAMES_THE_US = re.compile(r"\b(?:US|U\.S\.|USA|American|United States)\b")
NOTE_FOR_UK_PEOPLE = re.compile(
    r"^(?:An? |The )?(?:UK|British)[- ](?:resident|customer|holder|investor|consumer|user|taxpayer|saver)s?\b"
    r"|^(?:An? )?(?:UK|British) (?:person|individual)\b"
    # "A US investor living in the UK can report...", "A US citizen in the UK who...": an American in the UK
    r"|^(?:An? |The )?(?:US|U\.S\.|American) (?:investor|citizen|person|taxpayer|expat|holder|customer)s? "
    r"(?:who (?:lives|is living|has moved) (?:in|to) |living in |based in |resident in |in )the UK\b",
    re.I,
)
# Rules for Scottish taxpayers, to an investor who names no place in Scotland; Income Tax rates and other taxes'
# allowances, to a question about a gain on selling that names no income (staking, pay, an airdrop) nor a gift.
FOR_SCOTTISH_TAXPAYERS = re.compile(r"\bScottish (?:taxpayers?|Income Tax)\b")
SCOTLAND = re.compile(r"scot|edinburgh|glasgow|aberdeen|dundee|inverness|stirling", re.I)
ANOTHER_TAX = re.compile(
    r"\bpay Income Tax\b[^.]{0,80}\bat \d+%|\bIncome Tax (?:rates|bands)\b"
    # the trading allowance and Inheritance Tax's gift exemption: other taxes' allowances, not the gain's
    r"|\btrading allowance\b|\bfree of Inheritance Tax\b"
)
# A business asking about its own duties ("we're a small uk crypto exchange", "i run a us crypto app"), and
# sentences addressed to a consumer or an investor ("A UK resident can check the FCA Register..."), which are
# written for its customers, not for it.
FIRM_ASKS = re.compile(
    r"\b(?:we(?:'re| are)|we run|i run|i own|our)\s+(?:a\s+|an\s+)?(?:[\w().-]+\s+){0,4}?"
    r"(?:exchange|platform|firm|company|startup|start-up|fintech|business|app|broker|issuer|ltd|llc|co)\b",
    re.I,
)
FOR_CONSUMERS = re.compile(
    r"^(?:An? |The )?(?:(?:UK|US|U\.S\.|British|American|retail)[- ])?(?:residents?|consumers?|investors?|savers?|"
    r"holders?|users?|individuals?|persons?|victims?)\b",
    re.I,
)
# The investor gave a gift ("gave my nephew some bitcoin", "I want to gift my daughter ETH"), and did not receive
# one: a rule for the recipient (Form 3520, the recipient's basis) is written for the other side of the gift.
GAVE_A_GIFT = re.compile(
    r"(?:^|\b(?:i|we)(?:'ve| have)?\s+(?:just\s+|recently\s+|already\s+)?)"
    r"(?:gave|gifted|give|gift|am giving|are giving"
    r"|want to (?:give|gift)|plan to (?:give|gift)|would like to (?:give|gift))"
    r"\s+(?!me\b|us\b)(?:my|our|a|an|some|it|them|\$|£|\d)",
    re.I,
)
GOT_A_GIFT = re.compile(
    r"\b(?:gave|gifted|gives|sent|left|giving)\s+(?:me|us)\b"
    r"|\b(?:i|we)\s+(?:received|got|was given|were given|inherited)\b",
    re.I,
)
# A sentence whose first-named party of a gift is its recipient ("A US citizen ... who receives more than
# $100,000 in gifts...", "Form 3520 is a duty of the US recipient"), not its donor.
RECIPIENT_FIRST = re.compile(
    r"^(?:(?!\bdonors?\b|\bgives?\b|\bgiving\b).)*?\b(?:recipients?|receives?|receiving|received|Form 3520)\b", re.I
)
# A sentence about platforms abroad ("held with a US or other overseas crypto platform"), to the customer of a
# UK platform ("my revolut (uk)") whose question names none.
FOREIGN_PLATFORM = re.compile(
    r"\b(?:US|U\.S\.|American|overseas|foreign|offshore|non-UK)(?: or other overseas)?(?: crypto)?"
    r" (?:platforms?|exchanges?|brokers?|apps?|firms?)\b",
    re.I,
)
# ... and the other way round: the investor received a gift and asks about their own side of it ("my mum in
# England gave me crypto, do I have to report that?"), not the giver's ("does she have to file anything?").
DONOR_FIRST = re.compile(
    r"^(?:An? |The )?(?:US |UK )?(?:donors?|givers?)\b"
    r"|^A (?:US|UK) (?:citizen|person|donor|parent)\b[^.]{0,40}\bwho gives\b",
    re.I,
)
ASKS_ABOUT_THE_GIVER = re.compile(
    r"\b(?:does|do|will|would|must|should)\s+(?:she|he|they|my (?:mum|mom|dad|father|mother|parents?|gran\w*|aunt|uncle"
    r"|brother|sister|friend))\s+(?:have to|need to|owe|pay|file|report)",
    re.I,
)
GIFT_OR_ESTATE = re.compile(
    r"\b(?:gift\w*|giv(?:e|en|ing)|gave|inherit\w*|estate|die[sd]?|death|trad(?:e|ing) as)\b", re.I
)
GAINS_QUESTION = re.compile(r"\b(?:sold|sell|selling|profit|gains?|cgt|capital gains)\b", re.I)
INCOME_QUESTION = re.compile(
    r"\b(?:income|stak\w*|min(?:e|ed|ing)|salary|wages?|paid in|pay me|airdrop\w*|rewards?|interest|yield|earn\w*"
    r"|bonus)\b",
    re.I,
)
# One person who is both: a US citizen who lives in the UK (or abroad).
US_CITIZEN_ABROAD = re.compile(
    r"\b(?:US|U\.S\.) (?:citizens?|persons?|taxpayers?|expats?) (?:(?:who (?:is|are|lives?) |living |resident |based )?"
    r"in (?:the UK|London|Britain|the United Kingdom)|(?:who (?:live|lives) |living )?abroad)\b",
    re.I,
)
FOR_US_RESIDENTS = re.compile(r"\bUS[- ]residents?\b|\b(?:resident|living) in the (?:US|United States)\b", re.I)


# Sentences for people who are not US citizens ("a UK resident who is not a US citizen is taxed only in
# the UK"): someone else's answer when the investor is American.
FOR_NON_US_CITIZENS = re.compile(
    r"\b(?:is|are) not (?:a )?(?:US|U\.S\.) (?:citizens?|persons?)|\bnon-?(?:US|U\.S\.) (?:citizens?|persons?)"
    r"|\bnonresident aliens?\b",
    re.I,
)
# The investor says they are not American, or that they live in a third country ("As an Australian
# resident", "I live in Canada"): sentences for US citizens, or for UK or US residents, are not for them.
NOT_AMERICAN = re.compile(
    r"\b(?:not|n't|never been) (?:a |an )?(?:US|U\.S\.|american)(?: citizen| person| taxpayer)?\b"
    r"|\bno (?:US|U\.S\.) passport\b",
    re.I,
)
_DEMONYMS = (
    r"australian|canadian|irish|german|french|spanish|italian|dutch|indian|singaporean|swiss|emirati|new zealand"
)
LIVES_ELSEWHERE = re.compile(
    r"\b(?:live|living|lives|based|resident|reside|residing)\s+in\s+(?:the\s+)?"
    + _place_pattern(OTHER_COUNTRIES + tuple(OTHER_PLACES))
    + rf"|\b(?:{_DEMONYMS}) (?:tax )?resident\b",
    re.I,
)


# Sentences for people who use a platform abroad ("a US crypto platform's Form 1099-DA ..."): someone else's
# answer when a tax question is about the UK alone and names no platform, nor anything abroad.
FOR_FOREIGN_PLATFORM_USERS = re.compile(
    r"\b(?:a|an|the) (?:US|U\.S\.|American|foreign|overseas|non-UK|offshore)(?:[- ]based)? (?:crypto )?"
    r"(?:platform|exchange|broker|brokerage|app)s?\b",
    re.I,
)
ABROAD = re.compile(r"\b(?:abroad|overseas|foreign|offshore|american|usa?|u\.s\.|united states|non-uk)\b", re.I)


class _AskerSays(NamedTuple):
    not_american: bool  # "I'm not American", "no US passport"
    lives_elsewhere: bool  # "As an Australian resident", "I live in Canada"
    leaving: bool  # moving or moved away
    abroad: bool  # names something abroad: "a foreign exchange", "American", "the US"


@lru_cache(maxsize=256)
def _asker_says(question: str) -> _AskerSays:
    """What the question says about the investor, read once per question (not once per candidate sentence)."""
    return _AskerSays(
        bool(NOT_AMERICAN.search(question)),
        bool(LIVES_ELSEWHERE.search(question)),
        bool(LEAVING.search(question)),
        bool(ABROAD.search(question)),
    )


# Giving up US citizenship or a green card (the section 877A exit tax): a rule only for those who ask about it.
EXPATRIATION = re.compile(r"\b877A\b|covered expatriate|\bexpatriat(?:e|es|ed|ing|ion)\b|Form 8854|renounc", re.I)
ASKS_EXPATRIATION = re.compile(
    r"\bexpatriat|renounc|exit tax|\b877A\b|8854|\bgiv(?:e|ing) up\b|\bgave up\b|\bsurrender|\babandon"
    r"|\bgive (?:it|them) up\b|\bno longer (?:a )?(?:us )?citizen|\bcitizenship\b",
    re.I,
)


def written_for_someone_else(text: str, profile: Profile, question: str = "") -> bool:
    """The sentence is about US citizens, UK residents or US residents, and the investor said they are not;
    or about users of a platform abroad, in a UK-only tax question that names no platform nor anything abroad."""
    says = _asker_says(question)
    if matches(EXPATRIATION, text) and not matches(ASKS_EXPATRIATION, question):
        return True  # the exit tax is for US citizens and long-term green-card holders who give them up
    if (
        profile.platform_location is None
        and profile.jurisdictions == ["UK"]
        and "tax" in profile.topics
        and not says.abroad
        and matches(FOR_FOREIGN_PLATFORM_USERS, text)
    ):
        return True
    us_person = profile.citizenship == "US" or profile.green_card  # taxed by the US wherever they live
    if us_person and matches(FOR_NON_US_CITIZENS, text) and not matches(US_CITIZEN_ABROAD, text):
        return True
    if profile.citizenship is None and not profile.green_card and says.not_american and matches(FOR_US_CITIZENS, text):
        return True
    if profile.residence is None and says.lives_elsewhere:
        return matches(FOR_UK_RESIDENTS, text) or matches(FOR_US_RESIDENTS, text) or matches(US_CITIZEN_ABROAD, text)
    if not profile.person_sides():  # nothing said about where they live, their citizenship or a green card
        return False
    us_citizen = us_person or profile.residence == "US"
    if matches(US_CITIZEN_ABROAD, text) and (not us_person or profile.residence == "US"):
        # "a US citizen living in the UK" is one person who is both: not a UK resident who never said they
        # are American, and not someone who lives in the US
        return True
    if matches(FOR_US_CITIZENS, text) and not us_citizen and not matches(FOR_UK_RESIDENTS, text):
        return True
    if matches(FOR_UK_RESIDENTS, text) and profile.residence not in (None, "UK") and not matches(FOR_US_CITIZENS, text):
        return True
    if matches(FOR_NON_UK_RESIDENTS, text) and profile.residence == "UK" and not says.leaving:
        return True
    return matches(FOR_US_RESIDENTS, text) and profile.residence not in (None, "US")


# When set (scripts/ranking_pack.py), every candidate sentence is recorded with the parts of its score.
RECORD: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar("candidate_record", default=None)


@dataclass
class _Candidate:
    evidence: Evidence
    text: str
    vector: np.ndarray
    score: float
    is_action: bool
    on_topic: bool = True
    # The parts of the score, kept for the learned relevance check (bot/compose/relevance.py).
    similarity: float = 0.0
    overlap: float = 0.0
    specific: int = 0
    section_match: float = 0.0
    chunk_prior: float = 0.0
    type_match: bool = False


@dataclass(frozen=True)
class _Asked:
    """What the question asks for and says about the investor, as the sentence score reads it."""

    numeric: bool  # a how-much or when question
    yes_no: bool
    definition: bool  # "what is X?"
    form: bool  # "which form?", "where does it go on my return?"
    contact: bool  # "where do I report it?", "how do I check them?"
    progress: bool  # asks about a bill's progress
    persona_unstated: bool  # neither residence nor citizenship said
    us_only: bool  # only the US side is asked about
    residence_unknown: bool
    leaving: bool  # the investor is moving or has moved away
    failure_not_scam: bool  # asks what protects holdings if a firm fails, and says nothing of a scam
    not_scottish: bool  # names no place in Scotland
    no_uk: bool  # only the US side is asked about, and nothing links the investor to the UK
    gains_only: bool  # asks about a gain on selling and names no income
    gave_gift: bool  # the investor gave a gift and says nothing of receiving one
    firm_asks: bool  # a business asks about its own duties ("we run a london crypto exchange")
    got_gift: bool  # the investor received a gift and asks about their own side of it, not the giver's
    uk_platform_only: bool  # the investor's platform is in the UK and the question names no foreign platform

    @classmethod
    def of(cls, question: str, profile: Profile) -> _Asked:
        numeric = bool(NUMERIC_QUESTION.search(question))
        return cls(
            numeric=numeric,
            yes_no=bool(YES_NO_QUESTION.search(question)) and not numeric,
            definition=bool(DEFINITION_QUESTION.search(question)) and not numeric,
            form=bool(FORM_QUESTION.search(question)),
            contact=bool(CONTACT_QUESTION.search(question)),
            progress=bool(ASKS_PROGRESS.search(question)),
            persona_unstated=not profile.person_sides(),
            us_only=profile.jurisdictions == ["US"],
            residence_unknown=profile.residence is None,
            leaving=_asker_says(question).leaving,
            failure_not_scam="protection" in profile.topics
            and "scams" not in profile.topics
            and bool(FIRM_FAILURE.search(question))
            and not SCAM_WORDS.search(question),
            not_scottish=not SCOTLAND.search(question),
            no_uk=("US" in profile.jurisdictions or bool(NAMES_THE_US.search(question)))
            and "UK" not in profile.jurisdictions
            and "UK" not in (profile.residence, profile.citizenship, profile.platform_location),
            gains_only=bool(GAINS_QUESTION.search(question))
            and not INCOME_QUESTION.search(question)
            and not GIFT_OR_ESTATE.search(question),
            gave_gift=bool(GAVE_A_GIFT.search(question)) and not GOT_A_GIFT.search(question),
            firm_asks=bool(FIRM_ASKS.search(question)),
            uk_platform_only=profile.platform_location == "UK"
            and not FOREIGN_PLATFORM.search(question)
            and not NAMES_THE_US.search(question)
            and _us_match(question) is None,  # also "in the us", lower case
            got_gift=bool(GOT_A_GIFT.search(question))
            and not GAVE_A_GIFT.search(question)
            and not ASKS_ABOUT_THE_GIVER.search(question),
        )

    def for_us_citizens(self, text: str) -> bool:
        """A sentence written for US citizens, to an investor who said nothing of who they are."""
        return self.persona_unstated and matches(ABOUT_US_CITIZENS if self.us_only else FOR_US_CITIZENS, text)

    def adjust(self, text: str) -> tuple[float, bool]:
        """The persona, history and answer-type adjustments of a sentence's score; whether its type matches."""
        adjustment = 0.0
        if self.for_us_citizens(text):
            adjustment -= PERSONA_PENALTY
        if self.residence_unknown and not self.leaving and matches(FOR_NON_UK_RESIDENTS, text):
            adjustment -= PERSONA_PENALTY  # the rule for people who left the UK, to someone who did not say so
        if matches(HISTORY, text) or (not self.progress and matches(VOTES, text)):
            adjustment -= HISTORY_PENALTY
        if self.no_uk and matches(NOTE_FOR_UK_PEOPLE, text):
            adjustment -= PERSONA_PENALTY
        if self.not_scottish and matches(FOR_SCOTTISH_TAXPAYERS, text):
            adjustment -= PERSONA_PENALTY
        if self.gains_only and matches(ANOTHER_TAX, text):
            adjustment -= PERSONA_PENALTY
        if self.firm_asks and matches(FOR_CONSUMERS, text):
            adjustment -= PERSONA_PENALTY  # a check for consumers, to a firm asking about its own duties
        if self.uk_platform_only and matches(FOREIGN_PLATFORM, text):
            adjustment -= PERSONA_PENALTY  # a rule for US or overseas platforms, to a UK platform's customer
        if self.got_gift and matches(DONOR_FIRST, text):
            adjustment -= PERSONA_PENALTY  # the giver's return, to the recipient asking about their own
        if self.gave_gift and matches(RECIPIENT_FIRST, text):
            adjustment -= PERSONA_PENALTY
        if self.failure_not_scam and matches(SCAM_RECOVERY, text):
            adjustment -= SCAM_PENALTY
        type_match = bool(
            (self.numeric and matches(HAS_NUMBER, text))
            or (self.yes_no and matches(POLAR, text))
            or (self.definition and matches(DEFINES, text))
            or (self.form and matches(NAMES_A_FORM, text))
            or (self.contact and matches(GIVES_CONTACT, text))
        )
        if type_match:
            adjustment += TYPE_BONUS
        return adjustment, type_match


SECTION_REACH = 3  # chunks read on each side of a retrieved chunk in its section


def _section_sentences(
    index: Index, item: Evidence, query_vector: np.ndarray, part_vectors: Sequence[np.ndarray], visited: set[int]
) -> Iterator[tuple[int, int, str, np.ndarray, float]]:
    """The sentences of the retrieved chunk, then of the other chunks of the same section (a long section is
    cut into several chunks, and the one retrieved need not hold the sentence that answers: "Where do I
    report crypto sales?" finds the first chunk of "When a US taxpayer has a gain or loss", and the Form
    8949 sentence is in the second). Each as (chunk row, position, text, vector, similarity to the question,
    or to its closest part for a several-part question). Chunks in `visited` (read for an earlier chunk of
    the same section) are skipped, and the ones read here are added to it."""
    own = index.chunk_position[item.chunk.id]
    section = index.section_rows.get((item.chunk.doc_id, item.chunk.section_anchor), [])
    if own in section and len(section) > 2 * SECTION_REACH + 1:
        # A very long section (an operator's help page) is read only near the retrieved chunk, so that one
        # retrieved chunk cannot bring hundreds of sentences (the corpus's sections have 1 to 4 chunks).
        at = section.index(own)
        section = section[max(0, at - SECTION_REACH) : at + SECTION_REACH + 1]
    rows = [own] + [r for r in section if r != own]
    for row in rows:
        if row in visited:
            continue
        visited.add(row)
        chunk = index.chunks[row]
        start = int(index.sentence_start[row])
        vectors = index.sentence_vectors[start : start + len(chunk.sentences)]
        similarities = vectors @ query_vector
        for part_vector in part_vectors:
            similarities = np.maximum(similarities, vectors @ part_vector)
        for position, text in enumerate(chunk.sentences):
            yield row, position, text, vectors[position], float(similarities[position])


def _candidates(
    index: Index,
    evidence: list[Evidence],
    query_vector: np.ndarray,
    query_terms: set[str],
    question: str,
    expansions: dict[str, set[str]],
    profile: Profile,
    part_vectors: Sequence[np.ndarray] = (),
) -> list[_Candidate]:
    found: list[_Candidate] = []
    seen: set[str] = set()
    visited: set[int] = set()
    asked = _Asked.of(question, profile)
    domestic = not profile.cross_border and not _asker_says(question).abroad
    top = {g: max(e.score for e in evidence if e.group == g) for g in {e.group for e in evidence}}
    for item in sorted(evidence, key=lambda e: -e.score):
        if item.section.status in ("superseded", "withdrawn"):
            continue  # background kept for the record (an earlier draft), never quoted as a rule
        chunk_prior = item.score / top[item.group]
        section_match = item.question_similarity
        # Topic expansion words (e.g. "FSCS" for a UK protection question) count half.
        extra = expansions.get(item.group, set()) - query_terms
        for row, position, text, vector, similarity_at in _section_sentences(
            index, item, query_vector, part_vectors, visited
        ):
            if text in seen or len(text) < 25:
                continue
            seen.add(text)
            sentence_terms = index.sentence_terms[row][position]
            shared = len(query_terms & sentence_terms) + 0.5 * len(extra & sentence_terms)
            specific = (query_terms | extra) & sentence_terms - GENERIC_TERMS
            overlap = shared / max(1, len(query_terms))
            similarity = similarity_at
            score = similarity + OVERLAP_WEIGHT * overlap + 0.1 * item.dense_similarity
            score += CHUNK_PRIOR * chunk_prior + QUESTION_PRIOR * max(0.0, section_match - 0.3)
            adjustment, type_match = asked.adjust(text)
            score += adjustment
            if item.section.is_cross_border and domestic:
                score -= CROSS_BORDER_PENALTY  # written for holdings abroad; this question names nothing abroad
            on_topic = bool(specific) or similarity >= MIN_ON_TOPIC_SIMILARITY or section_match >= MIN_ON_TOPIC_QUESTION
            if (record := RECORD.get()) is not None:
                persona = asked.for_us_citizens(text)
                parts = [similarity, overlap, item.dense_similarity, chunk_prior, section_match, persona, type_match]
                record.append(_recorded(text, item.group, on_topic, parts))
            found.append(
                _Candidate(
                    item,
                    text,
                    vector,
                    score,
                    matches(ACTION, text) and not matches(NOT_ACTION, text),
                    on_topic,
                    similarity,
                    overlap,
                    len(specific),
                    section_match,
                    chunk_prior,
                    type_match,
                )
            )
    return found


def _recorded(text: str, group: str, on_topic: bool, parts: list[float]) -> dict[str, Any]:
    """A candidate as scripts/ranking_study.py reads it: the parts of its score in HAND_SET's order
    (similarity, overlap, dense similarity, chunk prior, question bonus, persona, type match)."""
    similarity, overlap, dense, chunk_prior, section_match, persona, type_match = parts
    bonus = max(0.0, section_match - 0.3)
    values = [similarity, overlap, dense, chunk_prior, bonus, float(persona), float(type_match)]
    return {"text": text, "group": group, "on_topic": on_topic, "parts": values}


FIGURE = re.compile(r"\d[\d,.]*")


def _figures(text: str) -> set[str]:
    return {f.rstrip(".,") for f in FIGURE.findall(text)}


def repeats(candidate: _Candidate, chosen: list[_Candidate]) -> bool:
    """The candidate says again what a quoted sentence says: close in meaning and bringing no figure
    (amount, date, percentage) the quoted sentence lacks. Two sentences that differ only in their
    figures ("70% ... 30%" beside "40% ...", a long-term rate beside a short-term one) are both facts."""
    return any(
        float(candidate.vector @ other.vector) > NEAR_REPEAT and _figures(candidate.text) <= _figures(other.text)
        for other in chosen
    )
