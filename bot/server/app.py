"""`bot serve`: the HTTP API under /v1, the embeddable widget and the Gradio web chat on one app.

`create_app(settings, bot=...)` builds the FastAPI app (tests pass their own bot and server
settings); `serve(settings)` runs it with uvicorn.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from fastapi import FastAPI  # noqa: E402
from fastapi.staticfiles import StaticFiles  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402

from bot.core import Bot  # noqa: E402
from bot.pointer import Lease, builds_read  # noqa: E402
from bot.server.auth import Gate  # noqa: E402
from bot.server.deps import Services  # noqa: E402
from bot.server.docs import add_docs  # noqa: E402
from bot.server.errors import install_error_handlers  # noqa: E402
from bot.server.holdings import router as holdings_router  # noqa: E402
from bot.server.limits import Admission, rate_limiter  # noqa: E402
from bot.server.loader import BotHolder  # noqa: E402
from bot.server.middleware import (  # noqa: E402
    BodyLimitMiddleware,
    LoggedCORSMiddleware,
    RequestIdLogFilter,
    WebChatLimitMiddleware,
    request_ids,
)
from bot.server.routes import STATIC, router  # noqa: E402
from bot.server.store import Store, default_url  # noqa: E402
from bot.settings import ServerSettings, Settings  # noqa: E402

log = logging.getLogger("bot.server")


async def follow_builds(holder: BotHolder, seconds: float, lease: Lease | None = None) -> None:
    """Switch the served bot to each new index build (`bot index` here or on another replica)."""
    while True:
        await asyncio.sleep(seconds)
        refresh = getattr(holder.bot, "refresh", None)
        if refresh is None:
            continue
        try:
            if await run_in_threadpool(refresh) and lease is not None:
                await renew(lease)  # name the new build at once
        except Exception:  # the current build keeps serving; try again next time
            log.exception("looking for a new index build failed")


async def renew(lease: Lease) -> bool:
    """Renew this replica's lease on the builds it reads; False while the bot loads (it reads none yet)."""
    builds = builds_read()
    if builds:
        await run_in_threadpool(lease.renew, builds)
    return bool(builds)


async def keep_lease(lease: Lease, seconds: float) -> None:
    """Renew the lease every `seconds` while the server runs, so `bot index` never prunes a build it reads."""
    renewed = False
    while True:
        try:
            renewed = await renew(lease)
        except Exception as exc:  # renewed next time; the lease outlives two missed renewals
            log.warning("could not renew the lease on index builds %s: %s", sorted(builds_read()), exc)
        await asyncio.sleep(seconds if renewed else min(seconds, 1.0))  # the first lease as soon as loaded


def create_app(
    settings: Settings, bot: Bot | None = None, *, web_chat: bool | None = None, holder: BotHolder | None = None
) -> FastAPI:
    """The server: /v1 API, /healthz, /readyz, /widget.js, /embed/* and, optionally, the chat.

    `holder` may already be loading the bot (`bot serve` starts it before building the app)."""
    holder = holder or BotHolder(settings, bot)
    services = _services(settings, holder)
    app = FastAPI(
        title="UK/US crypto guidance bot API",
        version="1",
        description="Answers from official UK and US guidance on crypto-assets and stablecoins, "
        "with citations. Not personal financial, legal or tax advice. Authenticate with a secret "
        "key (`X-API-Key` or `Authorization: Bearer`) or a widget session token from "
        'POST /v1/sessions. Every error is `{"error": {"code", "message", "request_id"}}`.',
        lifespan=_lifespan(settings, holder),
        docs_url=None,  # add_docs serves /docs and /redoc without a CDN
        redoc_url=None,
    )
    add_docs(app)
    app.state.services = services
    install_error_handlers(app)
    app.include_router(holdings_router)  # before `router`, whose /v1/{rest} catch-all answers 404
    app.include_router(router)
    # Not /static or /assets: those paths belong to the Gradio front end mounted at /.
    app.mount("/embed", StaticFiles(directory=STATIC), name="embed")
    _add_middleware(app, settings.server)
    if settings.server.web_chat if web_chat is None else web_chat:
        app = _with_web_chat(app, settings, services)
    return app


def _services(settings: Settings, holder: BotHolder) -> Services:
    """What the routes share: the bot, the key gate, the rate limiters, the store and the admission queue."""
    server = settings.server
    limits = (server.redis_url, server.rate_limit, server.rate_limit_window_seconds, server.rate_limit_callers)
    return Services(
        settings=settings,
        holder=holder,
        gate=Gate(server),
        limiter=rate_limiter(*limits, "bot:rl:"),
        session_limiter=rate_limiter(*limits, "bot:rl-session:"),
        store=Store(settings.store.url or default_url(server.feedback_dir), settings.store.retention_days),
        admission=Admission(server.max_in_flight, server.max_queue, server.queue_timeout_seconds),
    )


def _lifespan(settings: Settings, holder: BotHolder) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Load the bot, follow new index builds and hold the lease on them while the app runs."""
    server = settings.server

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        holder.start()
        lease = Lease(settings) if settings.index.lease_seconds else None
        tasks = (
            [asyncio.create_task(follow_builds(holder, server.reload_seconds, lease))] if server.reload_seconds else []
        )
        if lease is not None:
            tasks.append(asyncio.create_task(keep_lease(lease, settings.index.lease_seconds / 3)))
        yield
        for task in tasks:
            task.cancel()
        if lease is not None:
            await run_in_threadpool(lease.release)

    return lifespan


def _add_middleware(app: FastAPI, server: ServerSettings) -> None:
    """Body limit, CORS for the configured and the publishable keys' origins, and request ids (outermost)."""
    origins = sorted(set(server.cors_origins) | {o.rstrip("/") for v in server.publishable_keys.values() for o in v})
    app.add_middleware(BodyLimitMiddleware, max_bytes=server.max_body_bytes)
    if origins:
        app.add_middleware(
            LoggedCORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(request_ids)


def _with_web_chat(app: FastAPI, settings: Settings, services: Services) -> FastAPI:
    """Mount the Gradio chat at /, unless /v1 needs keys and the chat is not explicitly opened."""
    if services.gate.required and not settings.server.web_chat_open:
        log.warning(
            "the web chat is not mounted: /v1 needs API keys, and the chat would be an open door "
            "around them. Set server.web_chat_open=true (BOT_SERVER__WEB_CHAT_OPEN) to open it to "
            "anyone, with the per-address rate limit."
        )
        return app
    from bot.server.web import mount_web_chat

    app = mount_web_chat(app, services.holder.get, services.store, settings.answer.max_question_chars)
    app.add_middleware(WebChatLimitMiddleware, limiter=services.limiter)
    return app


def serve(
    settings: Settings, host: str | None = None, port: int | None = None, holder: BotHolder | None = None
) -> None:
    """Run the app with uvicorn (the `bot serve` command); `holder` may already be loading the bot."""
    import uvicorn

    from bot.server.protocol import with_header_timeout

    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    api_log = logging.getLogger("bot")
    api_log.addHandler(handler)
    api_log.setLevel(logging.INFO)
    api_log.propagate = False
    host = host or settings.server.host
    port = port or settings.server.port
    app = create_app(settings, holder=holder)
    log.info("serving on http://%s:%s (web chat at /, API docs at /docs)", host, port)
    proxies = settings.server.trusted_proxies
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        # X-Forwarded-For only from the configured proxies (uvicorn trusts loopback by default).
        proxy_headers=bool(proxies),
        forwarded_allow_ips=",".join(proxies) if proxies else "",
        timeout_keep_alive=5,  # idle keep-alive connections close after 5 s
        http=with_header_timeout(settings.server.header_timeout_seconds),  # and half-sent request heads too
        # Connections past this get a 503 from uvicorn instead of piling up (slow or half-sent headers).
        limit_concurrency=settings.server.max_in_flight + settings.server.max_queue + 64,
    )
