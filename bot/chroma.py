"""The Chroma client: a `chroma run` server at index.chroma_url, else the store embedded in a build folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse

from bot.errors import StoreUnavailableError
from bot.settings import Settings

log = logging.getLogger(__name__)


class ChromaEmbedding:
    """The parts of Chroma's embedding-function protocol that do not embed: a subclass names itself (NAME),
    lists its distance spaces (SPACES, the default first), embeds in __call__ and, when it has settings,
    returns them from get_config and takes them back in build_from_config. Not a subclass of chromadb's
    own, so that importing it never imports chromadb."""

    NAME: ClassVar[str]
    SPACES: ClassVar[tuple[str, ...]]

    def __call__(self, input: list[str]) -> list[Any]:  # noqa: A002 - Chroma's name
        raise NotImplementedError

    def embed_query(self, input: list[str]) -> list[Any]:  # noqa: A002
        return self(input)

    @classmethod
    def name(cls) -> str:
        return cls.NAME

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return self.SPACES[0]

    def supported_spaces(self) -> list[str]:
        return list(self.SPACES)

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def build_from_config(cls, config: dict[str, Any]) -> ChromaEmbedding:
        return cls()


def chroma_client(settings: Settings, build_dir: Path | None) -> Any:
    """A Chroma client: the server at index.chroma_url, else embedded in the build folder."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    url = settings.index.chroma_url
    if url:
        parsed = urlparse(url)
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreUnavailableError(
                f"The Chroma server at {url} cannot be reached ({exc.__class__.__name__}); start it "
                "with `chroma run --path <dir> --port <port>` or unset index.chroma_url "
                "(BOT_INDEX__CHROMA_URL) to use the embedded store."
            ) from exc
        return client
    assert build_dir is not None
    return chromadb.PersistentClient(path=str(build_dir / "chroma"), settings=chroma_settings)


def release_embedded(build_dir: Path) -> None:
    """Close the embedded Chroma store of a build folder (its open files), which chromadb caches per path
    for the life of the process. Best effort: if chromadb changes, the files stay open until exit."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        key = str(build_dir / "chroma")
        system = SharedSystemClient._identifier_to_system.pop(key, None)
        SharedSystemClient._identifier_to_refcount.pop(key, None)
        if system is not None:
            system.stop()
    except Exception as exc:
        log.warning("could not close the embedded store in %s: %s", build_dir, exc)
