"""`bot holding`: the "My holding" matrix and timeline for one holding."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from bot.cli.group import cli, current_settings


@cli.command()
@click.option("--residence", required=True, type=click.Choice(["UK", "US", "elsewhere"], case_sensitive=False))
@click.option(
    "--citizenship",
    default="other",
    show_default=True,
    type=click.Choice(["UK", "US", "both", "other"], case_sensitive=False),
)
@click.option(
    "--platform",
    required=True,
    type=click.Choice(["UK", "US", "elsewhere"], case_sensitive=False),
    help="Where the exchange, broker or wallet provider is based.",
)
@click.option(
    "--regulated/--unregulated",
    "platform_regulated",
    default=None,
    help="Whether the platform is registered or authorised (FCA; FinCEN/state/SEC/CFTC). Default: unknown.",
)
@click.option(
    "--asset",
    required=True,
    type=click.Choice(["crypto", "usd_stablecoin", "gbp_stablecoin", "crypto_etn"], case_sensitive=False),
)
@click.option("--custody", default="exchange", show_default=True, type=click.Choice(["exchange", "self"]))
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Assess as on this date (default today).")
@click.option(
    "--jurisdiction",
    "jurisdictions",
    multiple=True,
    type=click.Choice(["UK", "US"], case_sensitive=False),
    help="Only this column (repeat for both; both is the default and adds the gap).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.pass_context
def holding(
    ctx: click.Context,
    as_of: dt.datetime | None,
    jurisdictions: tuple[str, ...],
    as_json: bool,
    **values: Any,
) -> None:
    """Show what protects one holding, UK and US side by side, and the dated events coming.

    \b
    Examples:
      bot holding --residence UK --platform US --asset usd_stablecoin
      bot holding --residence UK --citizenship US --platform UK --asset crypto --custody self --json
    """
    from bot.corpus import load_corpus
    from bot.holding import Holding, build_holding, holding_text

    settings = current_settings(ctx)
    documents = {d.id: d for d in load_corpus(settings.corpus.path)}
    report = build_holding(
        Holding(**values),
        documents,
        as_of.date() if as_of else None,
        list(jurisdictions) or None,
        settings.retrieval.statuses,
    )
    click.echo(report.model_dump_json(indent=2) if as_json else holding_text(report))
