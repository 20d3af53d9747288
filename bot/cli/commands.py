"""The core commands: `bot settings`, `bot index`, `bot ask` and `bot serve`."""

from __future__ import annotations

import datetime as dt
import json

import click

from bot.cli.group import cli, current_settings, say
from bot.settings import iter_fields, lookup


@cli.command()
@click.pass_context
def settings(ctx: click.Context) -> None:
    """Print the effective settings and what each one does."""
    current = current_settings(ctx).model_dump(mode="json")
    for name, _default, description in iter_fields():
        click.echo(f"{name} = {json.dumps(lookup(current, name))}")
        click.echo(f"    {description}")


@cli.command()
@click.pass_context
def index(ctx: click.Context) -> None:
    """Build or update the index from the corpus (incremental and atomic)."""
    from bot.index import build_index, up_to_date

    settings = current_settings(ctx)
    report = up_to_date(settings, progress=say)  # without the model: a no-change run takes a second
    if report is None:
        from bot.embeddings import Embedder

        say("Loading the embedding model…")
        embedder = Embedder(settings.embedding.model, settings.embedding.batch_size)
        report = build_index(settings, embedder, progress=say)
    click.echo(
        f"index {report.build_id}: {report.documents} documents, {report.chunks} chunks "
        f"({report.embedded_chunks} embedded, {report.reused_chunks} reused) in {report.seconds:.1f}s"
        + (" [unchanged]" if report.unchanged else "")
    )


@cli.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer object as JSON.")
@click.option(
    "--jurisdiction",
    "jurisdictions",
    multiple=True,
    type=click.Choice(["UK", "US"], case_sensitive=False),
    help="Only this jurisdiction's sources (repeat for both).",
)
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Answer from documents in force on this date.")
@click.pass_context
def ask(
    ctx: click.Context,
    question: tuple[str, ...],
    as_json: bool,
    jurisdictions: tuple[str, ...],
    as_of: dt.datetime | None,
) -> None:
    """Ask one question; prints the cited answer."""
    from bot.core import Bot

    bot = Bot(current_settings(ctx), progress=say)
    answer = bot.ask(
        " ".join(question), jurisdictions=list(jurisdictions) or None, as_of=as_of.date() if as_of else None
    )
    if as_json:
        click.echo(answer.model_dump_json(indent=2))
        return
    click.echo(answer.answer)
    diagnostics = answer.diagnostics
    if diagnostics.sentences_written is not None:  # an LLM backend was asked: say what verification did
        click.echo(
            f"[{diagnostics.llm}: {diagnostics.sentences_kept} of {diagnostics.sentences_written} sentences "
            f"passed citation verification"
            + (f"; answered by the extractive composer ({diagnostics.fallback})" if diagnostics.fallback else "")
            + (f"; error: {diagnostics.error}" if diagnostics.error else "")
            + "]",
            err=True,
        )


@cli.command()
@click.option("--host", help="Address to listen on (default server.host).")
@click.option("--port", type=int, help="Port to listen on (default server.port).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the web chat at / and the HTTP API under /v1 on one port."""
    from bot.server.loader import BotHolder

    settings = current_settings(ctx)
    # The model and the index load in the background while the web framework is imported and the app
    # built, rather than after; /readyz answers 503 until the bot is loaded.
    holder = BotHolder(settings)
    holder.start()
    try:
        from bot.server.app import serve as run_server
    except ImportError as exc:  # pragma: no cover
        raise click.ClickException(f"The server is not available: {exc}") from exc
    run_server(settings, host=host, port=port, holder=holder)
