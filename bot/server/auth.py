"""Who is calling: secret API keys (stored as SHA-256 hashes) and signed widget session tokens
issued for publishable keys used from their allowed origins.

A session token is "st_" and an itsdangerous URL-safe timed token (HMAC-SHA256 over the claims and
the time it was issued), so signing, encoding and expiry are the library's.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from fastapi.security import APIKeyHeader, HTTPBearer
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from bot.server.errors import ApiError
from bot.settings import ServerSettings

log = logging.getLogger("bot.server")

# Declared in the OpenAPI document so that "Authorize" in /docs sends the credential; the Gate reads
# the headers itself (auto_error=False), so these only document them.
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="A secret API key (the server keeps its SHA-256).",
    auto_error=False,
)
BEARER = HTTPBearer(
    scheme_name="Bearer",
    description="A secret API key, or a widget session token (st_...) from POST /v1/sessions.",
    auto_error=False,
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key, a widget session or (when no keys are configured) an address."""

    kind: Literal["api_key", "session", "anonymous"]
    id: str
    limit_key: str = ""  # whose allowance a call counts against (the id when empty)

    @property
    def rate_key(self) -> str:
        return self.limit_key or self.id


_INVALID_SESSION = "The session token is not valid; start a new session at POST /v1/sessions."


class Gate:
    """Checks secret API keys and widget session tokens; issues tokens for publishable keys."""

    def __init__(self, server: ServerSettings) -> None:
        self.key_hashes = frozenset(server.api_key_hashes)
        self.publishable = {
            key: frozenset(o.rstrip("/") for o in origins) for key, origins in server.publishable_keys.items()
        }
        secret = server.session_secret.get_secret_value() if server.session_secret else ""
        self.serializer = URLSafeTimedSerializer(
            secret.encode() if secret else secrets.token_bytes(32),
            salt="bot.widget-session",
            signer_kwargs={"digest_method": hashlib.sha256},
        )
        self.ttl = server.session_ttl_seconds

    @property
    def required(self) -> bool:
        return bool(self.key_hashes or self.publishable)

    def issue(self, publishable_key: str, origin: str | None) -> tuple[str, int]:
        """A signed session token (and its expiry) for a publishable key used from its origin."""
        try:
            return self._issue(publishable_key, origin)
        except ApiError as exc:  # the widget's visitor sees a friendly message; the operator sees why
            log.warning(
                "widget session refused for origin %s, key %s: %s: %s",
                origin or "(none)",
                publishable_key[:40],
                exc.code,
                exc.message,
            )
            raise

    def _issue(self, publishable_key: str, origin: str | None) -> tuple[str, int]:
        origins = self.publishable.get(publishable_key)
        if origins is None:
            raise ApiError(
                401,
                "invalid_publishable_key",
                "Unknown publishable key; copy the data-api-key value from the bot's operator.",
            )
        if not origin:
            raise ApiError(
                403,
                "origin_not_allowed",
                "A publishable key only works from a web page: the request has no Origin header.",
            )
        if origin.rstrip("/") not in origins:
            raise ApiError(
                403,
                "origin_not_allowed",
                f"This publishable key is not allowed on {origin}; the operator must add the "
                "origin to server.publishable_keys (http://localhost and http://127.0.0.1 are different origins).",
            )
        expires = int(time.time()) + self.ttl  # taken before signing: the token outlives it by under a second
        claims = {"k": publishable_key, "o": origin.rstrip("/"), "sid": secrets.token_hex(8)}
        return f"st_{self.serializer.dumps(claims)}", expires

    def _session(self, token: str, origin: str | None, address: str) -> Principal:
        try:
            # A token issued at second t expires at t + ttl, as the `expires` given out says: itsdangerous
            # rejects an age over max_age, so allow ttl - 1 whole seconds.
            claims = self.serializer.loads(token[3:], max_age=self.ttl - 1)
        except SignatureExpired:
            raise ApiError(
                401,
                "session_expired",
                "The session token has expired; start a new session at POST /v1/sessions.",
                {"WWW-Authenticate": "Bearer"},
            ) from None
        except BadData:
            raise ApiError(401, "invalid_session", _INVALID_SESSION, {"WWW-Authenticate": "Bearer"}) from None
        allowed = self.publishable.get(claims["k"], frozenset())
        if claims["o"] not in allowed:
            raise ApiError(
                401,
                "invalid_session",
                "The session's publishable key or origin is no longer allowed.",
                {"WWW-Authenticate": "Bearer"},
            )
        if not origin or origin.rstrip("/") != claims["o"]:
            raise ApiError(
                403,
                "origin_not_allowed",
                "A widget session token only works from the page origin it was issued to.",
            )
        # Every session of one publishable key from one address shares an allowance: starting new
        # sessions does not buy more requests.
        return Principal("session", f"session:{claims['sid']}", f"pk:{claims['k'][:40]}|{address}")

    def authenticate(self, request: Request) -> Principal:
        credential = request.headers.get("x-api-key", "").strip()
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if not credential and scheme.lower() == "bearer":
            credential = bearer.strip()
        origin = request.headers.get("origin")
        address = request.client.host if request.client else "-"
        if credential.startswith("st_"):
            return self._session(credential, origin, address)
        if not self.required:
            return Principal("anonymous", f"ip:{address}")
        if not credential:
            raise ApiError(
                401,
                "missing_api_key",
                "This API needs a key: send it in the X-API-Key header or as 'Authorization: Bearer <key>'.",
                {"WWW-Authenticate": "Bearer"},
            )
        if credential in self.publishable:
            raise ApiError(
                401,
                "invalid_api_key",
                "A publishable key (pk_...) only starts widget sessions at "
                "POST /v1/sessions; use a secret key or a session token here.",
                {"WWW-Authenticate": "Bearer"},
            )
        digest = hashlib.sha256(credential.encode()).hexdigest()
        if not any(hmac.compare_digest(digest, known) for known in self.key_hashes):
            raise ApiError(401, "invalid_api_key", "The API key is not valid.", {"WWW-Authenticate": "Bearer"})
        return Principal("api_key", f"key:{digest[:12]}")
