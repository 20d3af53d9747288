"""Errors a user may see; each message says what to do next."""

from __future__ import annotations


class BotError(Exception):
    """Base class for errors the bot reports to its users."""

    code = "bot_error"


class QuestionError(BotError):
    """The question cannot be answered as given (empty, too long)."""

    code = "invalid_question"


class CorpusError(BotError):
    """A corpus file is malformed; the message names the file and line."""

    code = "corpus_invalid"

    def __init__(self, problems: list[CorpusProblem]) -> None:
        self.problems = problems
        lines = [str(p) for p in problems]
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} problem(s) in the corpus; fix them and run `bot index` again:\n"
            + "\n".join(lines[:20])
            + more
        )


class CorpusProblem:
    """One problem in one corpus file, at one line."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    def __repr__(self) -> str:
        return f"CorpusProblem({self.path!r}, {self.line}, {self.message!r})"


class IndexMissingError(BotError):
    """No index has been built yet."""

    code = "index_missing"


class IndexMismatchError(BotError):
    """The index was built from another model or another corpus."""

    code = "index_mismatch"


class StoreUnavailableError(BotError):
    """The vector store (a Chroma server) cannot be reached."""

    code = "store_unavailable"


class ModelLoadError(BotError):
    """The embedding model cannot be loaded offline."""

    code = "model_unavailable"


class SettingsError(BotError):
    """A setting has a value the bot cannot use."""

    code = "invalid_settings"


class NotReadyError(BotError):
    """The server's bot is still loading its model and index, or failed to load."""

    code = "not_ready"


class StoreError(BotError):
    """The audit and feedback database (store.url) cannot be used."""

    code = "store_failed"


class UnknownAnswerError(BotError):
    """Feedback or a lookup names an answer the audit log does not hold."""

    code = "unknown_answer"


class ArtifactError(BotError):
    """An index build's files cannot be downloaded from the Chroma server (missing or damaged)."""

    code = "index_download_failed"
