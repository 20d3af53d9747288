"""POST /v1/holdings: the "My holding" protection matrix and timeline for one holding."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from bot.holding import HoldingReport, HoldingRequest, build_holding
from bot.server.deps import CallerDep, ServicesDep
from bot.server.errors import ApiError
from bot.server.schemas import ErrorResponse

router = APIRouter()


@router.post(
    "/v1/holdings",
    tags=["holdings"],
    response_model=HoldingReport,
    summary="What protects one holding, UK and US side by side, and the dated events coming",
    description="Each cell quotes one or two corpus sentences with status and citation, says 'nothing applies' "
    "with the reason, or is 'missing' when the curated layer has nothing cited for it. The timeline covers the "
    "12 months before and the 24 months after `as_of`. Same as-of rules as answers.",
    responses={status: {"model": ErrorResponse} for status in (400, 401, 403, 413, 422, 429, 503)},
)
async def holdings(body: HoldingRequest, _: CallerDep, services: ServicesDep) -> HoldingReport:
    documents = services.holder.get().index.documents
    report: HoldingReport = await run_in_threadpool(
        build_holding,
        body.holding(),
        documents,
        body.as_of,
        body.jurisdictions,
        services.settings.retrieval.statuses,
    )
    return report


@router.api_route("/v1/holdings", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def holdings_wrong_method() -> None:
    # The API's own catch-all only knows the routes of bot.server.routes, so it would answer 404 here.
    raise ApiError(
        405, "method_not_allowed", "/v1/holdings accepts only POST; send the holding as JSON.", {"Allow": "POST"}
    )
