"""The one-sentence 'What I understood' line of an answer."""

from __future__ import annotations

from bot.types import Profile

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
    if profile.green_card and profile.citizenship != "US":
        parts.append("you hold a US green card")
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
