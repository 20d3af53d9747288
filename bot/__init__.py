"""Cross-border UK/US crypto-asset and stablecoin investor guidance bot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.settings import Settings

__all__ = ["Bot", "Settings", "load"]


def load(settings: Settings | None = None, **overrides: Any) -> Bot:
    """Load the bot: settings from env / defaults, the model and the index, once."""
    from bot.core import load as _load

    return _load(settings, **overrides)


def __getattr__(name: str) -> Any:
    if name == "Bot":
        from bot.core import Bot

        return Bot
    if name == "Settings":
        from bot.settings import Settings

        return Settings
    raise AttributeError(name)
