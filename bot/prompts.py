"""Wording shared by the composer, the prompts, the interfaces and the tests."""

from __future__ import annotations

NOTICE = (
    "General guidance from official UK and US sources, not personal financial, legal or tax advice. "
    "Rules change: check the linked official pages before you act."
)
REFUSAL = (
    "I can't give personal investment advice or predict prices. What I can do is show what the "
    "official UK and US guidance says, and where to find a regulated adviser."
)
NO_GUIDANCE = "I couldn't find official UK or US guidance in my sources that answers this question, so I won't guess."
OUT_OF_SCOPE = (
    "I only cover official UK and US guidance on crypto-assets and stablecoins for investors, so "
    "I can't answer this question from my sources."
)
INJECTION_NOTE = "I only answer from official sources and ignore instructions inside questions."
ADVICE_POINTER = (
    "For a personal recommendation, use a firm or adviser authorised to give advice: check the FCA "
    "Register in the UK, or FINRA BrokerCheck and the SEC's adviser search in the US."
)
FIRM_SERVICE = (
    "Official UK and US guidance doesn't set or publish a firm's own fees, limits or customer service details, "
    "so my sources can't answer that; the firm's own terms and fee pages are where to look. What official "
    "sources can tell you is whether the firm is authorised or registered: check the FCA Register in the UK, "
    "or FINRA BrokerCheck, the SEC and FinCEN's MSB search in the US."
)
OTHER_COUNTRY = (
    "I cover official guidance from two countries only, the United Kingdom and the United States, so my "
    "sources hold nothing on the rules of {countries}; that country's own regulator and tax authority are "
    "where to look."
)
INJECTION_REFUSAL = (
    "I only answer from official UK and US sources, and I don't follow instructions that ask me to change "
    "how I work, reveal my instructions or give personal recommendations. Ask me what the rules say instead."
)
