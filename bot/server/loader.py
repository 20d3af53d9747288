"""The bot, given or loaded in a background thread so that /healthz answers while the model loads."""

from __future__ import annotations

import logging
import threading

from bot.core import Bot
from bot.errors import (
    NotReadyError,
)
from bot.settings import Settings

log = logging.getLogger("bot.server")


class BotHolder:
    """The bot, given or loaded in the background so that /healthz answers while the model loads."""

    def __init__(self, settings: Settings, bot: Bot | None = None) -> None:
        self.settings = settings
        self.bot = bot
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.bot is None and self._thread is None:
            self._thread = threading.Thread(target=self._load, name="bot-loader", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        try:
            self.bot = Bot(self.settings)
            log.info(
                "bot ready: index %s, corpus %s",
                self.bot.index.build_id,
                self.bot.index.corpus_version,
            )
        except Exception as exc:  # reported by /readyz and every /v1 call
            self.error = f"{exc.__class__.__name__}: {exc}"
            log.exception("the bot failed to load")

    def get(self) -> Bot:
        """The loaded bot; NotReadyError (a 503 with Retry-After) while it loads or if it failed."""
        if self.bot is not None:
            return self.bot
        if self.error:
            raise NotReadyError(f"The bot failed to load: {self.error}")
        raise NotReadyError("The bot is still loading its model and index; retry in a few seconds.")
