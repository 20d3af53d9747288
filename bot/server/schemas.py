"""Request and response models of the HTTP API (what /docs shows)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.settings import AnswerSettings
from bot.types import Document, DocumentInfo

MAX_QUESTION_CHARS: int = AnswerSettings.model_fields["max_question_chars"].default
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: object) -> object:
    """Only a date written YYYY-MM-DD (the schema's `format: date`): pydantic alone reads the number 0,
    or "2026-01-01T00:00:00", as a date."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD, such as 2026-11-28")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatTurn(_Strict):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AnswerRequest(_Strict):
    # The limits are checked by Bot.ask (422 invalid_question, with a message that says how to shorten the
    # question, against the configured answer.max_question_chars); the schema states the defaults.
    question: str = Field(
        json_schema_extra={"minLength": 1, "maxLength": MAX_QUESTION_CHARS},
        description=f"The question, in plain words: 1 to {MAX_QUESTION_CHARS:,} characters by default "
        "(answer.max_question_chars), not counting spaces at either end. An empty question, or one of only "
        "spaces, is refused with 422.",
        examples=["I live in the UK and keep USDC on a US exchange; what protects me?"],
    )
    history: list[str | ChatTurn] = Field(
        default_factory=list,
        max_length=50,
        description="Earlier turns of the conversation, oldest first: questions as strings, or "
        "{role, content} messages. Follow-up questions use them for context.",
    )
    jurisdictions: list[Literal["UK", "US"]] | None = Field(
        None,
        description="Only these jurisdictions' sources; omit (or both) to let the question decide.",
    )
    as_of: IsoDate | None = Field(
        None, description="Answer from the documents in force on this day, YYYY-MM-DD (default today)."
    )


class SessionRequest(_Strict):
    publishable_key: str = Field(max_length=200, description="The widget's publishable key (pk_...).")


class SessionResponse(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>' from the same origin.")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: dt.datetime
    expires_in: int = Field(description="Seconds until the token expires.")


class FeedbackRequest(_Strict):
    answer_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `id` of the answer being rated.",
    )
    question: str | None = Field(
        None,
        max_length=4000,
        description="Accepted for older clients and not stored: the audit log already holds the question.",
    )
    rating: Literal["up", "down"] = Field(
        description="A later rating of the same answer by the same caller replaces it."
    )
    comment: str | None = Field(None, max_length=2000, description="Optional words from the user.")


class FeedbackResponse(BaseModel):
    id: str
    stored: bool = True


class SectionInfo(BaseModel):
    heading: str
    locator: str
    anchor: str


# A listed source is the document's own DocumentInfo (bot.types): one model, not a copy of its fields.
SourceSummary = DocumentInfo


class SourceDetail(DocumentInfo):
    """A document's listing fields, then what identifies its file and its sections."""

    superseded_by: str | None
    content_hash: str
    sections: list[SectionInfo]

    @classmethod
    def of(cls, document: Document) -> SourceDetail:
        return cls(
            **dict(document.info()),
            superseded_by=document.superseded_by,
            content_hash=document.content_hash,
            sections=[SectionInfo(heading=s.heading, locator=s.locator, anchor=s.anchor) for s in document.sections],
        )


class SourceList(BaseModel):
    corpus_version: str
    count: int
    sources: list[SourceSummary]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_api_key, rate_limited.")
    message: str = Field(description="What went wrong and what to do next.")
    request_id: str
    details: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
