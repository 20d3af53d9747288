"""What every route depends on: the shared services of one app, and the authenticated,
rate-limited caller of a /v1 route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from bot.server.auth import API_KEY_HEADER, BEARER, Gate, Principal
from bot.server.limits import Admission, RateLimiter
from bot.server.loader import BotHolder
from bot.server.store import Store
from bot.settings import Settings


@dataclass
class Services:
    """The state one app shares between requests (`app.state.services`)."""

    settings: Settings
    holder: BotHolder
    gate: Gate
    limiter: RateLimiter
    session_limiter: RateLimiter
    store: Store
    admission: Admission


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


async def caller(
    request: Request,
    services: ServicesDep,
    _api_key: Annotated[str | None, Security(API_KEY_HEADER)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
) -> Principal:
    """Authenticate and rate-limit a /v1 call (the two security parameters document the headers)."""
    principal = services.gate.authenticate(request)
    services.limiter.check(principal.rate_key)
    request.state.principal = principal
    return principal


CallerDep = Annotated[Principal, Depends(caller)]
