"""Question analysis: jurisdictions, residence, platform, asset, topics and intent."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.types import Profile

UK_PLACES = (
    "uk",
    "u.k.",
    "united kingdom",
    "britain",
    "great britain",
    "england",
    "scotland",
    "wales",
    "northern ireland",
    "london",
    "manchester",
    "leeds",
    "bristol",
    "birmingham",
    "edinburgh",
    "glasgow",
    "cardiff",
    "belfast",
    "liverpool",
    "sheffield",
    "newcastle",
    "nottingham",
    "leicester",
    "brighton",
    "oxford",
    "cambridge",
    "southampton",
    "aberdeen",
    "york",
    "coventry",
    "norwich",
    "exeter",
    "plymouth",
    "swansea",
    "dundee",
    "kent",
    "surrey",
    "yorkshire",
    "cornwall",
    "devon",
    "essex",
)
US_PLACES = (
    "us",
    "u.s.",
    "u.s",
    "usa",
    "u.s.a.",
    "united states",
    "america",
    "new york",
    "nyc",
    "california",
    "texas",
    "florida",
    "chicago",
    "boston",
    "seattle",
    "san francisco",
    "los angeles",
    "miami",
    "washington",
    "new jersey",
    "illinois",
    "ohio",
    "georgia",
    "arizona",
    "colorado",
    "nevada",
    "virginia",
    "massachusetts",
    "pennsylvania",
    "michigan",
    "oregon",
    "atlanta",
    "houston",
    "dallas",
    "austin",
    "denver",
    "philadelphia",
    "the states",
)
OTHER_COUNTRIES = (
    "canada",
    "australia",
    "new zealand",
    "india",
    "germany",
    "france",
    "spain",
    "italy",
    "netherlands",
    "ireland",
    "portugal",
    "singapore",
    "hong kong",
    "japan",
    "china",
    "korea",
    "dubai",
    "uae",
    "nigeria",
    "south africa",
    "brazil",
    "mexico",
    "argentina",
    "switzerland",
    "el salvador",
    "turkey",
    "pakistan",
    "philippines",
    "vietnam",
    "thailand",
    "indonesia",
    "malaysia",
    "sweden",
    "norway",
    "denmark",
    "poland",
    "israel",
    "kenya",
    "ghana",
    "eu",
    "european union",
    "mica",
)

UK_BODIES = {
    "FCA": r"\bfca\b|financial conduct authority",
    "HMRC": r"\bhmrc\b",
    "FOS": r"\bfos\b|financial ombudsman|\bombudsman\b",
    "FSCS": r"\bfscs\b|financial services compensation",
    "Bank of England": r"bank of england|\bboe\b",
    "HM Treasury": r"hm treasury|\bhmt\b",
    "PSR": r"\bpsr\b|payment systems regulator",
    "Report Fraud": r"action fraud|report fraud",
}
US_BODIES = {
    "SEC": r"\bsec\b|securities and exchange commission",
    "CFTC": r"\bcftc\b",
    "IRS": r"\birs\b|internal revenue",
    "FinCEN": r"\bfincen\b",
    "FDIC": r"\bfdic\b",
    "SIPC": r"\bsipc\b",
    "FINRA": r"\bfinra\b",
    "CFPB": r"\bcfpb\b|consumer financial protection bureau",
    "NYDFS": r"\bnydfs\b|\bdfs\b|bitlicense|new york department of financial",
    "OCC": r"\bocc\b|comptroller of the currency",
    "Federal Reserve": r"federal reserve|\bthe fed\b",
    "NCUA": r"\bncua\b|national credit union administration",
    "FBI": r"\bfbi\b|\bic3\b",
    "FTC": r"\bftc\b|federal trade commission",
    "US Congress": r"\bgenius\b|\bclarity act\b|congress",
    "US Treasury": r"us treasury|u\.s\. treasury|treasury department|department of the treasury",
}
UK_CUES = r"£|\bgbp\b|\bpounds?\b|sterling|\bisa\b|\bsipp\b|self[- ]assessment|national insurance|\bhmrc\b|\bbrit(ish|on)\b|\bscottish\b|\bwelsh\b|\benglish\b"
US_CUES = r"\busd\b|\$|\bdollars?\b|\b1099(-da)?\b|\bfbar\b|\b8938\b|\b1040\b|\bfatca\b|\bamerican\b|\bu\.?s\.? (citizen|person|taxpayer|resident|green card)|green card|\b401\(?k\)?|\bira\b|social security number|\bssn\b"

US_TAX_CUES = r"\b1099(-da)?\b|\bfbar\b|\b8938\b|\b8949\b|\b1040\b|\bfatca\b|\bu\.?s\.? (citizen|person|taxpayer|resident|green card)|green card|\b401\(?k\)?|\bira\b|\bschedule d\b|\bamerican\b|\bfederal\b"

US_PLATFORMS = (
    "coinbase",
    "kraken",
    "gemini",
    "robinhood",
    "binance.us",
    "binance us",
    "cash app",
    "venmo",
    "paypal",
    "bitstamp",
    "crypto.com",
    "uphold",
    "fidelity",
    "schwab",
    "etoro us",
)
UK_PLATFORMS = (
    "revolut",
    "coinjar",
    "bitpanda",
    "ziglu",
    "hargreaves",
    "trading 212",
    "etoro uk",
    "wise",
    "monzo",
    "starling",
    "archax",
    "zopa",
    "coinshares",
)

ASSETS = {
    "stablecoin": r"stable ?coins?|\busdc\b|\busdt\b|tether|\bpyusd\b|paypal usd|\bdai\b|\bfdusd\b|\brlusd\b|\bgbp ?stablecoin|e-money token",
    "bitcoin": r"\bbitcoin\b|\bbtc\b",
    "ether": r"\bether(eum)?\b|\beth\b",
    "token": r"\btokens?\b|\baltcoins?\b|\bcoins?\b",
    "meme_coin": r"meme ?coins?|\bdoge(coin)?\b|\bshib\b|\bpepe\b|trump coin|\$trump",
    "nft": r"\bnfts?\b|non-fungible",
    "etn_etp": r"\betns?\b|\betps?\b|\betfs?\b|exchange[- ]traded",
    "derivative": r"\bcfds?\b|futures|derivatives?|perpetual|\bperps?\b|leverage",
}
US_ISSUED = r"\busdc\b|circle|\bpyusd\b|paypal usd|paxos|\bgusd\b|gemini dollar|\brlusd\b"
UK_ISSUED = r"(gbp|sterling|pound|uk|british)[- ]?(backed |denominated |issued )?stable ?coin|uk[- ]issued"

TOPICS = {
    "protection": r"protect|\bcover(ed|s)?\b(?! letter)|guarantee|compensat|fscs|sipc|fdic|insur|go(es)? bust|went bust|fail(s|ed|ure)?\b|collaps|bankrupt|insolven|goes under|went under|safe\b|lose (my|all)|get (my )?money back|recover",
    "complaints": r"complain|ombudsman|\bfos\b|dispute|redress|unfair|refus(e|ed|ing) to (pay|refund)",
    "tax": r"\btax|\bcgt\b|capital gains|hmrc|\birs\b|1099|income|\bgains?\b|\bloss(es)?\b|declare|self[- ]assessment|\bfig\b|remittance|double tax|treaty|1040",
    "reporting": r"report(ing|ed|able)?\b|fbar|8938|fatca|\bcarf\b|1099|disclos|declare|nudge letter|letter from hmrc",
    "promotions": r"advert|\bads?\b|promot|influencer|bonus|refer(ral| a friend)|cooling[- ]off|risk warning|marketing",
    "registration": r"regist|authori[sz]|licen[cs]|\blegit|\blegal\b|allowed to|permitted|firm checker|\bregister\b|warning list|approved",
    "custody": r"custod|wallet|hold(s|ing)? my|segregat|private key|self[- ]custody|cold storage",
    "staking": r"\bstak(e|ing|ed)\b|validator|liquid staking",
    "lending": r"lend|borrow|\bloan|yield|interest|earn\b",
    "scams": r"scam|fraud|stolen|hack|phish|cold[- ]?call|guaranteed (returns?|profits?)|pig butcher|romance|rug ?pull|ponzi|impersonat|fake|recovery (firm|company|service)|con(ned)?\b|cheat",
    "stablecoins": r"stable ?coin|\busdc\b|\busdt\b|tether|\bpeg|de-?peg|redeem|redemption|reserve",
    "derivatives": r"\bcfds?\b|futures|derivative|perpetual|leverage|margin",
    "etps": r"\betns?\b|\betps?\b|\betfs?\b|exchange[- ]traded|\bisa\b|sipp|pension",
    "regime": r"new (rules|regime|law)|2027|upcoming|regulat(ed|ion|e)|genius|clarity act|legislation|bill\b",
    "mining": r"\bmining\b|\bminer",
    "meme_coins": r"meme ?coin",
    "defi": r"\bdefi\b|decentrali[sz]ed finance|liquidity pool|\bdex\b|airdrop",
    "aml": r"money laundering|\baml\b|\bkyc\b|travel rule|source of funds|sanction",
    "banking": r"\bbank\b|\bbanks\b|deposit",
}

_COIN = r"(?:the )?(?:price|value|it|bitcoin|btc|eth|ether|ethereum|xrp|ripple|sol|solana|doge|dogecoin|shib|pepe|crypto|cryptos|coins?|tokens?|altcoins?|memecoins?|meme coins?|cardano|ada|bnb|litecoin|ltc|markets?|my (?:coins?|tokens?|portfolio|bag))"
PRICE = re.compile(
    rf"\b(will|would|is|does|gonna|going to|could|can)\s+{_COIN}\b[^?.]{{0,40}}\b(go up|go down|rise|rocket|moon|crash|drop|fall|recover|hit|reach|be worth|double|triple|10x|100x|skyrocket|bounce back|rally|tank)\b"
    r"|price (prediction|target|forecast)|\b(predict|forecast)\w*\b.{0,30}\b(price|value|worth|bitcoin|btc|eth|crypto|coin|market)|how high|how low|what will .{0,30}(price|worth)|(next|by) (year|month|week|20\d\d).{0,30}(price|worth)"
    r"|(price|value) (go|goes|going) (up|down)|\bwhere is (bitcoin|btc|eth|crypto|the market) (heading|going)"
    r"|\b(prices?|values?|bitcoin|btc|eth|crypto|coins?|tokens?|markets?)\s+(will|gonna|going to|are going to|is going to)\s+(crash|rise|go up|go down|drop|fall|moon|recover|rally|tank)"
    r"|\bwill\b[^?.]{0,30}\b(lose (its|their|the) peg|de-?peg|go to zero|collapse)"
    r"|\bwill\b[^?.]{0,40}\b\d+x\b",
    re.I,
)
# A question about one firm's own commercial terms or service (its fees, limits, app, support), which
# official guidance does not set or publish. Regulatory words keep a question in scope.
_FIRMS = "|".join(re.escape(p) for p in US_PLATFORMS + UK_PLATFORMS + ("binance", "bybit", "okx", "etoro", "kucoin"))
FIRM_SERVICE = re.compile(
    rf"\b(?:{_FIRMS})(?:'s)?\b.{{0,60}}\b(?:trading fees?|fees?|spreads?|commissions?|withdrawal limits?|deposit limits?"
    r"|minimum deposit|customer (?:service|support)|support team|phone number|opening hours|app (?:not working|crash\w*|down)"
    r"|sign[- ]?up bonus|referral|which coins|list(?:s|ing)? (?:new )?coins?|interest rate (?:they|it) pays?)\b"
    rf"|\b(?:trading fees?|fees?|spreads?|withdrawal limits?|customer (?:service|support)|minimum deposit)\b.{{0,40}}\b(?:{_FIRMS})\b",
    re.I,
)
_NAMED_FIRM = re.compile(rf"\b(?:{_FIRMS})\b", re.I)
REGULATORY = re.compile(
    r"\b(?:regulat\w*|registered|authori[sz]ed|licen[sc]\w*|legal|illegal|law|rules?|protect\w*|compensat\w*|complain\w*"
    r"|ombudsman|fca|sec|cftc|finra|fscs|sipc|fdic|tax\w*|hmrc|irs|report\w*|scam\w*|fraud\w*|safe|collapse|fail\w*|bankrupt\w*"
    r"|insolven\w*|frozen|freeze|hack\w*|stolen|cap|capped|banned?|allowed)\b",
    re.I,
)
ADVICE = re.compile(
    r"\bshould (i|we)\b[^?.]{0,40}\b(buy|sell|invest|hold|hodl|put|move|swap|convert|cash out|dump|ape|allocate|get into|go all in|switch|stake|lend|deposit|bet)\b"
    r"|\b(is|would) it (be )?(a )?(good|wise|smart|safe) (idea|time|investment|move)?\s*(for me )?to (buy|invest|sell|put)"
    r"|\b(is|are) .{1,40} (a )?good (investment|buy)"
    r"|\bwhich (coin|crypto|token|stablecoin|exchange|platform|etn|etf|wallet)s? (to buy|to use|to pick|should|would you|do you recommend)"
    r"|\bwhat would (you|u) do\b|\bgood idea (for me )?to (buy|sell|invest|put|move|swap|convert|hold)"
    r"|\b(best|top) (coin|crypto|token|stablecoin|investment|altcoin)s? (to|for)\b"
    r"|\b(best|top|safest|cheapest) (hardware |crypto |cold )?(wallet|exchange|platform|broker|app|etn|etf)s?\b(?! rules)"
    r"|\brecommend (a|an|me|which|some)\b|\bhow much (of my|should i)\b.{0,40}(invest|put|buy|allocate)"
    r"|\b(buy|sell) (now|today|or (sell|hold|wait))\b|\bworth (buying|investing)\b|\bmy portfolio\b.{0,30}(should|rebalance|allocate)",
    re.I,
)
INJECTION = re.compile(
    r"ignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|rules|prompts?)|disregard (your|the) (rules|instructions)"
    r"|forget (all |about )?(your|the|these|those) (rules|instructions|restrictions)"
    r"|you are now|system prompt|developer mode|jailbreak|pretend (to be|you are|you're|you\u2019re)|act as (a|an|my) (?!investor)"
    r"|reveal (your|the) (prompt|instructions)|new instructions:",
    re.I,
)
CRYPTO = re.compile(
    r"crypto|bitcoin|\bbtc\b|ether|\beth\b|token|coin|stable|usdc|usdt|tether|blockchain|\bnfts?\b|\bdefi\b|wallet|exchange|staking|mining|"
    r"digital asset|virtual (currency|asset)|\betns?\b|\betps?\b|\betfs?\b|airdrop|web3|\bdao\b|ledger|binance|coinbase|kraken|scam|fraud|invest",
    re.I,
)
# A turn that opens like this continues the previous question ("and what about tax on it?").
CONNECTIVE = re.compile(
    r"^\s*(and|also|what about|how about|but what|same|ok so|okay so|so what|so who|so how|so can|then what|what if)\b",
    re.I,
)
CLASSIFIER_CONFIDENCE = 0.5  # the learned intent overrides the hand-written patterns from this confidence
NARROWING_CONFIDENCE = 0.7  # ... and may take a question out of scope only from this one

INTL_BODIES = {
    "OECD": r"\boecd\b|\bcarf\b|crypto-?asset reporting framework",
    "IOSCO": r"\biosco\b",
    "FSB": r"\bfsb\b|financial stability board",
    "FATF": r"\bfatf\b|financial action task force",
    "BIS": r"\bbis\b|bank for international settlements",
    "Taskforce": r"transatlantic taskforce|taskforce for markets",
}
INTL_CUES = (
    r"\b(other )?countries\b|\binternational(ly)?\b|\bglobal(ly)?\b|\bworldwide\b|\bg20\b|\bcross-border standards?\b"
)

_BODY_PATTERNS = {**{k: ("UK", v) for k, v in UK_BODIES.items()}, **{k: ("US", v) for k, v in US_BODIES.items()}}


def _place_pattern(places: tuple[str, ...]) -> str:
    return r"(?<![a-z])(" + "|".join(re.escape(p) for p in sorted(places, key=len, reverse=True)) + r")(?![a-z])"


_UK_PLACE = _place_pattern(UK_PLACES)
_US_PLACE = _place_pattern(US_PLACES)
_OTHER_PLACE = re.compile(_place_pattern(OTHER_COUNTRIES), re.I)
_RESIDENCE = re.compile(
    r"\b(?:live|living|lives|based|resident|reside|residing|moved|moving|relocated|emigrated|settled|i'm|i am|im)\s+(?:here\s+)?(?:in|to)\s+(?:the\s+)?([a-z .']{2,30})"
    r"|\b(?:i'm|i am|im|as) (?:a |an )?([a-z.]+) (?:tax )?resident",
    re.I,
)
_CITIZEN = re.compile(
    r"\b(us|u\.s\.|american|uk|british|united states)\s+(citizen|national|passport|person|expat)|\b(american|british) (living|based|expat)",
    re.I,
)


_MOVED = re.compile(
    r"\b(?:moved|moving|relocated|relocating|emigrated|emigrating)\s+(?:back\s+)?(?:from\s+(?:the\s+)?"
    r"(?P<origin>[a-z .']{2,30}?)\s+)to\s+(?:the\s+)?(?P<dest>[a-z .']{2,30})",
    re.I,
)
# A negation reaches the end of the window unless a clause boundary ("and", "but", a comma) comes first:
# "I don't live in the UK" is negated; "I hold no US passport and live in London" is not.
_TAX_UK = r"(?:uk|british|united kingdom|britain)"
_TAX_US = r"(?:US|U\.S\.|USA|american|united states|america)"
_NEGATED = re.compile(
    r"\b(?:not|no|never|without|don't|dont|do not|doesn't|isn't|aren't|am not|'m not)\b"
    r"(?:(?!\b(?:and|but|so|though|although|while)\b)[^.?!,;])*$",
    re.I,
)
_FORMER = re.compile(r"\b(?:used to|previously|formerly|until)\b", re.I)

_US_NAMES_WITH_UK_WORDS = re.compile(r"new (york|england|hampshire|jersey)|cambridge,? (ma|massachusetts)", re.I)


def _uk_place(text: str) -> re.Match[str] | None:
    """A UK place, not counting the 'York' of New York."""
    return re.search(_UK_PLACE, " " + _US_NAMES_WITH_UK_WORDS.sub(" US-place ", text.lower()) + " ")


def _where(text: str) -> str | None:
    # "us" as a pronoun ("tell us") is common; only count it upper-case or with a noun after it.
    uk = _uk_place(text)
    us = _us_match(text)
    if uk and (not us or uk.start() <= us.start()):
        return "UK"
    if us:
        return "US"
    return None


def _us_match(text: str) -> re.Match[str] | None:
    for match in re.finditer(_US_PLACE, text, re.I):
        word = match.group(0)
        if word.lower() == "us" and word != "US":
            continue
        return match
    return None


def _location_before(text: str, nouns: str) -> str | None:
    """'a US exchange', 'UK platform', 'an American broker'."""
    m = re.search(
        rf"\b(uk|u\.k\.|british|english|london|us|u\.s\.|usa|american|new york|california)[- ](based |registered |regulated |listed )?({nouns})\b",
        text,
        re.I,
    )
    if not m:
        m = re.search(
            rf"\b({nouns})s? (based|registered|regulated|located|incorporated) in (the )?(uk|united kingdom|britain|us|u\.s\.|usa|united states|america|new york)",
            text,
            re.I,
        )
        if not m:
            return None
        word = m.group(4)
    else:
        word = m.group(1)
        if word == "us":  # 'us' lower-case here is almost always a pronoun
            return None
    return "UK" if word.lower() in ("uk", "u.k.", "british", "english", "london", "united kingdom", "britain") else "US"


def analyse(question: str, previous: Profile | None = None, predicted: tuple[str, float] | None = None) -> Profile:
    """Read what a question is about. Facts about the investor (residence, citizenship) carry over from
    earlier turns unless restated; the rest carries over only to a follow-up, a question with no subject
    of its own. `predicted` is the intent classifier's (label, confidence) for this question."""
    text = question.strip()
    lowered = text.lower()
    profile = Profile()

    plain = text.replace("’", "'")
    moved = _MOVED.search(plain)
    if moved:  # "moved from Leeds to Texas": where the investor lives now
        profile.residence = _where(moved.group("dest"))
    position = 0
    while profile.residence is None and (m := _RESIDENCE.search(plain, position)):
        position = m.start() + 3  # the next match may start inside this one's greedy place words
        if _NEGATED.search(plain[max(0, m.start() - 25) : m.start()]) or _FORMER.search(
            plain[max(0, m.start() - 12) : m.start() + 8]
        ):
            continue  # "I don't live in the UK any more", "I used to live in London"
        profile.residence = _where(m.group(1) or m.group(2))
    if profile.residence is None and re.search(r"\b(uk|british) (tax )?resident\b", lowered):
        profile.residence = "UK"
    elif profile.residence is None and re.search(r"\b(us|u\.s\.) (tax )?resident\b", lowered):
        profile.residence = "US"
    for m in _CITIZEN.finditer(text):
        if _NEGATED.search(text[max(0, m.start() - 25) : m.start()]):
            continue  # "I don't have a US passport", "not a US citizen"
        word = (m.group(1) or m.group(3) or "").lower()
        profile.citizenship = "UK" if word in ("uk", "british") else "US"
        break

    nouns = r"exchanges?|platforms?|brokers?|brokerages?|apps?|firms?|compan(?:y|ies)|wallets?|banks?|custodians?|providers?"
    profile.platform_location = _location_before(text, nouns)
    if profile.platform_location is None:
        if any(re.search(rf"\b{re.escape(p)}\b", lowered) for p in US_PLATFORMS):
            profile.platform_location = "US"
        elif any(re.search(rf"\b{re.escape(p)}\b", lowered) for p in UK_PLATFORMS):
            profile.platform_location = "UK"
    if re.search(UK_ISSUED, lowered):
        profile.issuer_location = "UK"
    elif re.search(US_ISSUED, lowered) or re.search(
        r"\b(us|u\.s\.|american)[- ](issued |based )?(stable ?coin|issuer)", lowered
    ):
        profile.issuer_location = "US"

    profile.asset_types = [name for name, pattern in ASSETS.items() if re.search(pattern, lowered)]
    if "stablecoin" in profile.asset_types or "bitcoin" in profile.asset_types or "ether" in profile.asset_types:
        profile.asset_types = [a for a in profile.asset_types if a != "token"]
    profile.topics = [name for name, pattern in TOPICS.items() if re.search(pattern, lowered)]
    if "stablecoin" in profile.asset_types and "stablecoins" not in profile.topics:
        profile.topics.append("stablecoins")

    jurisdictions: set[str] = set()
    for name, (jurisdiction, pattern) in _BODY_PATTERNS.items():
        if re.search(pattern, lowered):
            profile.bodies.append(name)
            jurisdictions.add(jurisdiction)
    for name, pattern in INTL_BODIES.items():
        if re.search(pattern, lowered):
            profile.bodies.append(name)
            jurisdictions.add("INTL")
    if re.search(INTL_CUES, lowered):
        jurisdictions.add("INTL")
    if re.search(UK_CUES, lowered):
        jurisdictions.add("UK")
    # "a dollar stablecoin" names the coin, not where the investor or the platform is.
    without_coin_names = re.sub(
        r"\b(us )?dollar[- ](backed |denominated )?stable ?coins?|\busd[- ]?stable ?coins?", " ", lowered
    )
    if re.search(US_CUES, without_coin_names) or re.search(r"\bUS\b|\bU\.S\.", text):
        jurisdictions.add("US")
    place = _where(text)
    if place:
        jurisdictions.add(place)
        if _uk_place(text) and _us_match(text):
            jurisdictions.update({"UK", "US"})
    for located in (profile.residence, profile.citizenship, profile.platform_location):
        if located:
            jurisdictions.add(located)
    issuer_only = False
    if profile.issuer_location:
        # The coin's issuer alone does not say whose rules reach the investor: with no other signal,
        # answer from both sides rather than guess the investor is where the issuer is.
        issuer_only = not jurisdictions & {"UK", "US"}
        jurisdictions.update({"UK", "US"} if issuer_only else {profile.issuer_location})
    tax_person_unknown = False
    if _tax_only(profile.topics):
        # Tax follows the person (residence, citizenship), not where the platform or the coin's issuer is:
        # only those sides, any side whose body the question names (the IRS, HMRC) and the side of any
        # tax word it uses (Self Assessment, Form 8949) are asked about; with none of these, both.
        named = {_BODY_PATTERNS[body][0] for body in profile.bodies if body in _BODY_PATTERNS}
        person = {side for side in (profile.residence, profile.citizenship) if side}
        cued = {side for side, cues in (("UK", UK_CUES), ("US", US_TAX_CUES)) if re.search(cues, without_coin_names)}
        # A country the question names outright ("do I still pay UK tax?"), and the one the investor moved
        # from (a recent leaver can still owe its tax), are asked about too.
        for side, country in (("UK", _TAX_UK), ("US", _TAX_US)):
            if re.search(
                rf"\b{country}[- ](?:tax|taxes|cgt|capital gains|income tax|tax return|tax year|taxpayer)"
                rf"|\btax(?:es|ed|ation)?\s+(?:in|by|to|for)\s+(?:the\s+)?{country}\b",
                text,
                re.I,
            ):
                cued.add(side)  # "do I still pay UK tax?", "how is crypto taxed in the US?"
        if re.search(r"\buk[- /](?:us|u\.s\.)\b|\b(?:us|u\.s\.)[- /]uk\b", lowered):
            cued |= {"UK", "US"}  # "the UK-US tax treaty"
        origin = _where(moved.group("origin")) if moved else None
        if origin in ("UK", "US"):
            cued.add(origin)
        jurisdictions = person | named | cued | (jurisdictions & {"INTL"})
        issuer_only = not jurisdictions - {"INTL"}  # whose tax it is is unknown: both sides, not cross-border
        if issuer_only and not _OTHER_PLACE.search(lowered):
            jurisdictions |= {"UK", "US"}
            tax_person_unknown = True
    profile.other_countries = sorted({m.group(0).strip().lower() for m in _OTHER_PLACE.finditer(lowered)})

    profile.injection_suspected = bool(INJECTION.search(text))
    if PRICE.search(text):
        profile.intent = "price_prediction"
    elif ADVICE.search(text):
        profile.intent = "personal_advice"
    label, confidence = predicted or ("", 0.0)
    if label == "injection":
        profile.injection_suspected = True

    own_subject = bool(profile.topics or profile.asset_types or profile.bodies or profile.platform_location)
    elsewhere = label in ("off_topic", "other_country") and confidence >= CLASSIFIER_CONFIDENCE
    is_follow_up = previous is not None and (
        bool(CONNECTIVE.search(text)) or (not own_subject and not elsewhere and not profile.other_countries)
    )
    stated = set(jurisdictions)
    if previous is not None:
        for attribute in ("residence", "citizenship"):  # facts about the investor hold for the conversation
            if getattr(profile, attribute) is None and getattr(previous, attribute):
                setattr(profile, attribute, getattr(previous, attribute))
                if is_follow_up or own_subject:
                    jurisdictions.add(getattr(previous, attribute))
    person = {side for side in (profile.residence, profile.citizenship) if side}
    if tax_person_unknown and person:
        # "and what about tax on it?" after "I live in Leeds…": the tax is the investor's, now known.
        jurisdictions = person | (jurisdictions & {"INTL"})
        stated = set(jurisdictions)
    if previous is not None and is_follow_up:
        profile.follow_up = True
        if not stated - {"INTL"}:
            jurisdictions |= set(previous.jurisdictions)
        for attribute in ("platform_location", "issuer_location"):
            if getattr(profile, attribute) is None:
                setattr(profile, attribute, getattr(previous, attribute))
        if not profile.asset_types:
            profile.asset_types = list(previous.asset_types)
        if not profile.topics:
            profile.topics = list(previous.topics)

    if profile.intent == "information":
        on_topic = bool(CRYPTO.search(text) or profile.bodies or profile.topics or jurisdictions - {"INTL"})
        if profile.follow_up:
            on_topic = True
        if not on_topic:
            profile.intent = "out_of_scope"
        elif profile.other_countries and not jurisdictions - {"INTL"}:
            profile.intent = "other_country"
        elif FIRM_SERVICE.search(text) and not REGULATORY.search(text):
            profile.intent = "firm_service"
    profile.intent = _learned_intent(profile, text, label, confidence, jurisdictions)
    if profile.intent in ("personal_advice", "price_prediction") and "risk_warnings" not in profile.topics:
        profile.topics.append("risk_warnings")  # a refusal still gives the official risk warnings
    profile.jurisdictions = sorted(jurisdictions)
    profile.cross_border = {"UK", "US"} <= jurisdictions and not issuer_only
    return profile


# Topics that make a question about more than tax (where the platform is matters for these).
NOT_TAX = frozenset(
    {
        "protection",
        "complaints",
        "registration",
        "scams",
        "promotions",
        "custody",
        "derivatives",
        "etps",
        "regime",
        "banking",
        "aml",
    }
)


def _tax_only(topics: list[str]) -> bool:
    return "tax" in topics and not NOT_TAX & set(topics)


SCAM_ADVICE_CONFIDENCE = 0.8


def _learned_intent(profile: Profile, text: str, label: str, confidence: float, jurisdictions: set[str]) -> str:
    """The intent, where the classifier may overrule the patterns. It decides requests for advice or a
    price call (which patterns miss when naturally phrased); it may only narrow the scope (firm service,
    another country, off topic, injection) when the question carries no sign of being in scope."""
    if confidence < CLASSIFIER_CONFIDENCE:
        return profile.intent
    in_scope_words = bool(REGULATORY.search(text) or profile.bodies)
    ours = bool(jurisdictions - {"INTL"}) or "INTL" in jurisdictions
    if label in ("personal_advice", "price_prediction", "information"):
        if label == "information" and profile.intent in ("out_of_scope", "other_country") and not CRYPTO.search(text):
            return profile.intent
        if label == "personal_advice" and "scams" in profile.topics and confidence < SCAM_ADVICE_CONFIDENCE:
            # "I was cold-called about 20% a month, what should I do?" asks what to do about a likely scam
            # (check, report), which the sources answer; only a confident call makes it a request for advice.
            return "information"
        return label
    if label == "injection":
        if profile.intent in ("personal_advice", "price_prediction"):
            return profile.intent
        # An injection wrapped round a real question: answer the question (with a note), refuse the rest.
        return "information" if CRYPTO.search(text) or profile.topics or profile.bodies else "injection"
    if label == "off_topic" and MAKE_SOMETHING.search(text) and not in_scope_words:
        return "out_of_scope"  # "write me a python script to trade crypto": a task, not a question about the rules
    if confidence < NARROWING_CONFIDENCE:
        return profile.intent
    named_firm = bool(_NAMED_FIRM.search(text) or FIRM_SERVICE.search(text))
    if label == "firm_service" and named_firm and not in_scope_words and not profile.follow_up:
        return "firm_service"
    if label == "other_country" and not ours:
        return "other_country"
    if label == "off_topic" and not CRYPTO.search(text) and not profile.topics and not profile.bodies:
        return "out_of_scope"
    return profile.intent


# A request to make something (code, a poem, a logo), which no official guidance answers even when it names crypto.
MAKE_SOMETHING = re.compile(
    r"\b(write|code|build|create|make|draw|design|generate)\b.{0,25}\b(script|code|program|bot|app|poem|essay|song|"
    r"story|smart contract|spreadsheet|formula|logo|website)s?\b",
    re.I,
)

_ABOUT_THE_FIRM = re.compile(
    r"\b(?:sec|cftc|ftc|doj|case|cases|lawsuit|sued|sue|suing|charged|settle\w*|dismiss\w*|enforcement|fined|fine|"
    r"penalt\w*|registered|authori[sz]ed|licen[sc]ed|regulated|approved|legit|register|warning list)\b",
    re.I,
)


def generic_firms(question: str) -> str:
    """The question with named platforms read as the kind of firm they are ("Coinbase" -> "the crypto
    exchange"), unless it asks about that firm itself (a case against it, its registration)."""
    if not _NAMED_FIRM.search(question) or _ABOUT_THE_FIRM.search(question):
        return question
    return _NAMED_FIRM.sub("the crypto exchange", question)


def merge_history(
    history: list[str], question: str, predicted: tuple[str, float] | None = None
) -> tuple[Profile, list[Profile]]:
    """Analyse earlier user turns in order, then the question in their light."""
    profile: Profile | None = None
    earlier: list[Profile] = []
    for turn in history:
        profile = analyse(turn, profile)
        earlier.append(replace(profile))
    return analyse(question, profile, predicted), earlier


TOPIC_NAMES = {
    "protection": "protection if a firm fails",
    "complaints": "complaints",
    "tax": "tax",
    "reporting": "reporting",
    "promotions": "adverts and promotions",
    "registration": "whether a firm is registered or authorised",
    "custody": "custody",
    "staking": "staking",
    "lending": "lending and yield",
    "scams": "scams",
    "stablecoins": "stablecoins",
    "derivatives": "derivatives",
    "etps": "exchange-traded products",
    "regime": "the new rules",
    "mining": "mining",
    "meme_coins": "meme coins",
    "defi": "DeFi",
    "aml": "anti-money-laundering checks",
    "banking": "banks and deposits",
    "risk_warnings": "risks",
}


def describe(profile: Profile, answered: list[str] | None = None) -> str:
    """One plain sentence of what the analysis understood and, given the sides an answer quotes
    (`answered`), which countries' sources it answered from."""
    parts: list[str] = []
    names = {"UK": "the UK", "US": "the US"}
    if profile.residence:
        parts.append(f"you live in {names[profile.residence]}")
    if profile.citizenship and profile.citizenship != profile.residence:
        parts.append(f"you are a {profile.citizenship} citizen")
    if profile.platform_location:
        parts.append(f"your platform is in {names[profile.platform_location]}")
    if profile.issuer_location:
        parts.append(f"the coin's issuer is in {names[profile.issuer_location]}")
    assets = {
        "stablecoin": "a stablecoin",
        "bitcoin": "bitcoin",
        "ether": "ether",
        "meme_coin": "a meme coin",
        "nft": "NFTs",
        "etn_etp": "an exchange-traded product",
        "derivative": "crypto derivatives",
        "token": "a crypto token",
    }
    if profile.asset_types:
        parts.append("the asset is " + " and ".join(assets[a] for a in profile.asset_types[:2]))
    if profile.topics:
        parts.append(
            "the question is about " + ", ".join(TOPIC_NAMES.get(t, t.replace("_", " ")) for t in profile.topics[:4])
        )
    sentence = "; ".join(parts) if parts else "a general question"
    sides = [j for j in profile.jurisdictions if j in ("UK", "US")] or ["UK", "US"]
    if answered is not None and len(answered) == 1:
        other = "US" if answered[0] == "UK" else "UK"
        sentence += f". I answered from {answered[0]} sources"
        if other in sides:
            sentence += f"; my {other} sources hold nothing specific on this"
    elif answered is not None and profile.cross_border and len(answered) == 2:
        sentence += ". Rules of both the UK and the US reach this"
    elif answered is not None and not answered and "INTL" in profile.jurisdictions:
        sentence += ". I answered from international standards"
    elif profile.cross_border:
        sentence += ". Rules of both the UK and the US reach this"
    else:
        sentence += (
            ". I looked at "
            + " and ".join(sides)
            + " sources"
            + (" and international standards" if "INTL" in profile.jurisdictions else "")
        )
    return sentence[0].upper() + sentence[1:] + "."
