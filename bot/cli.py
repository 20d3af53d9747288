"""The `bot` command line."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

import click

from bot import settings_aliases
from bot.errors import BotError
from bot.settings import Settings, iter_fields, lookup, with_overrides

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _say(message: str) -> None:
    """Tell the user on stderr what is loading, so a cold start is not a silent wait."""
    click.echo(message, err=True)


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj or {}
    settings: Settings = obj["settings"]
    return settings


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BotError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands first, then the options (click puts the commands last)."""
        self.format_commands(ctx, formatter)
        click.Command.format_options(self, ctx, formatter)


_SETTING_FLAGS: list[click.Option] = []


def _help_all(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """Print the help with every setting flag, which `--help` leaves out."""
    if not value or ctx.resilient_parsing:
        return
    for option in _SETTING_FLAGS:
        option.hidden = False
    try:
        click.echo(ctx.get_help(), color=ctx.color)
    finally:
        for option in _SETTING_FLAGS:
            option.hidden = True
    ctx.exit()


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Every setting is also a flag, e.g. --retrieval.quota 8: `bot --help-all` lists them and "
    "`bot settings` prints their values and what each does.",
)
@click.option(
    "--help-all",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_help_all,
    help="Show this help with every setting flag, then exit.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a setting, e.g. --set retrieval.quota=8 (see `bot settings`).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def cli(ctx: click.Context, overrides: tuple[str, ...], verbose: bool, **flags: str | None) -> None:
    """Answer UK/US crypto-asset and stablecoin questions from official guidance, with citations.

    \b
    Examples:
      bot index                                   # build or update the index from corpus/
      bot ask "I live in the UK and keep USDC on a US exchange. If it fails, am I protected?"
      bot ask --json "Do I pay tax on staking rewards in the UK?"
      bot ask --as-of 2025-01-01 --jurisdiction US "When do GENIUS Act rules apply?"
      bot sources                                 # documents, with a coverage table
      bot holding --residence UK --platform US --asset usd_stablecoin   # protection matrix and timeline
      bot settings                                # effective settings
      bot serve                                   # web chat and HTTP API on 127.0.0.1:8000
      BOT_INDEX__PATH=/tmp/idx bot index          # any setting via BOT_<GROUP>__<NAME>
      bot --retrieval.quota 8 ask "..."           # ... or as a flag (also: --set retrieval.quota=8)
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    pairs: dict[str, str] = {dest.replace("__", "."): value for dest, value in flags.items() if value is not None}
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"'{item}' must be NAME=VALUE", param_hint="--set")
        pairs[name.strip()] = value
    try:
        settings = with_overrides(Settings(), pairs) if pairs else Settings()
    except BotError as exc:
        raise click.BadParameter(str(exc), param_hint="--set") from exc
    except Exception as exc:  # pydantic validation
        raise click.ClickException(f"Invalid settings: {exc}") from exc
    ctx.obj = {"settings": settings}


def _add_setting_flags() -> None:
    """Every setting is also a flag of its own: --retrieval.quota 8 (paper-qa style)."""
    for name, _default, description in iter_fields():
        option = click.Option(
            [f"--{name}", name.replace(".", "__")],
            default=None,
            metavar="VALUE",
            help=description,
            show_default=False,
            hidden=True,  # listed by --help-all, so that --help fits on a screen
        )
        _SETTING_FLAGS.append(option)
        cli.params.append(option)
    for old, new in {**settings_aliases.SHORTHANDS, **settings_aliases.RENAMED}.items():
        # --llm PROVIDER:MODEL (short for --llm.model) and the old names, which with_overrides maps and warns about.
        hint = f"Short for --{new}." if old in settings_aliases.SHORTHANDS else f"Deprecated: use --{new}."
        cli.params.append(
            click.Option([f"--{old}", old.replace(".", "__")], default=None, metavar="VALUE", help=hint, hidden=True)
        )


_add_setting_flags()


@cli.command()
@click.pass_context
def settings(ctx: click.Context) -> None:
    """Print the effective settings and what each one does."""
    current = _settings(ctx).model_dump(mode="json")
    for name, _default, description in iter_fields():
        click.echo(f"{name} = {json.dumps(lookup(current, name))}")
        click.echo(f"    {description}")


@cli.command()
@click.pass_context
def index(ctx: click.Context) -> None:
    """Build or update the index from the corpus (incremental and atomic)."""
    from bot.index import build_index, up_to_date

    settings = _settings(ctx)
    report = up_to_date(settings, progress=_say)  # without the model: a no-change run takes a second
    if report is None:
        from bot.embeddings import Embedder

        _say("Loading the embedding model…")
        embedder = Embedder(settings.embedding.model, settings.embedding.batch_size)
        report = build_index(settings, embedder, progress=_say)
    click.echo(
        f"index {report.build_id}: {report.documents} documents, {report.chunks} chunks "
        f"({report.embedded_chunks} embedded, {report.reused_chunks} reused) in {report.seconds:.1f}s"
        + (" [unchanged]" if report.unchanged else "")
    )


@cli.group()
def corpus() -> None:
    """Corpus tools."""


@corpus.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_context
def corpus_check(ctx: click.Context, path: Path | None) -> None:
    """Validate corpus files without indexing them."""
    from bot.corpus import corpus_version, load_corpus

    documents = load_corpus(path or _settings(ctx).corpus.path)
    click.echo(f"{len(documents)} documents OK (corpus version {corpus_version(documents)})")


@corpus.command("review")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Review as on this date (default today).")
@click.option("--days", default=90, show_default=True, help="How far ahead to look for status changes.")
@click.pass_context
def corpus_review(ctx: click.Context, path: Path | None, as_json: bool, as_of: dt.datetime | None, days: int) -> None:
    """What to re-check first: problems, status changes due soon, documents by age of review, "as of"
    claims and source URLs. Reads corpus files only (no index, no model); exits 1 when there are problems.

    \b
    Examples:
      bot corpus review
      bot corpus review --as-of 2027-01-01 --json
    """
    from bot.corpus.review import build_review, review_text

    review = build_review(path or _settings(ctx).corpus.path, as_of.date() if as_of else None, days)
    click.echo(json.dumps(review.to_json(), indent=2) if as_json else review_text(review))
    if review.problems:
        ctx.exit(1)


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

    bot = Bot(_settings(ctx), progress=_say)
    answer = bot.ask(
        " ".join(question), jurisdictions=list(jurisdictions) or None, as_of=as_of.date() if as_of else None
    )
    if as_json:
        click.echo(answer.model_dump_json(indent=2))
        return
    click.echo(answer.answer)
    diagnostics = answer.diagnostics
    if "sentences_written" in diagnostics:  # an LLM backend was asked: say what verification did
        click.echo(
            f"[{diagnostics['llm']}: {diagnostics['sentences_kept']} of {diagnostics['sentences_written']} sentences "
            f"passed citation verification"
            + (
                f"; answered by the extractive composer ({diagnostics['fallback']})"
                if diagnostics.get("fallback")
                else ""
            )
            + (f"; error: {diagnostics['error']}" if diagnostics.get("error") else "")
            + "]",
            err=True,
        )


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

    settings = _settings(ctx)
    documents = {d.id: d for d in load_corpus(settings.corpus.path)}
    report = build_holding(
        Holding(**values),
        documents,
        as_of.date() if as_of else None,
        list(jurisdictions) or None,
        settings.retrieval.statuses,
    )
    click.echo(report.model_dump_json(indent=2) if as_json else holding_text(report))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List the documents in the index with a coverage table."""
    from bot.errors import IndexMissingError
    from bot.index import indexed_documents

    try:  # the current build's documents, without loading the model
        documents = sorted(indexed_documents(_settings(ctx)), key=lambda d: (d.jurisdiction, d.publisher, d.id))
    except IndexMissingError:
        from bot.core import Bot

        documents = Bot(_settings(ctx), progress=_say).sources()  # builds the index first
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": d.id,
                        "title": d.title,
                        "jurisdiction": d.jurisdiction,
                        "publisher": d.publisher,
                        "status": d.status,
                        "published": d.published.isoformat(),
                        "url": d.url,
                        "topics": list(d.topics),
                    }
                    for d in documents
                ],
                indent=2,
            )
        )
        return
    click.echo(f"{'id':48} {'jur':4} {'publisher':16} {'status':17} published")
    for d in documents:
        click.echo(f"{d.id[:48]:48} {d.jurisdiction:4} {d.publisher[:16]:16} {d.status:17} {d.published}")
    click.echo("")
    by_jurisdiction = Counter(d.jurisdiction for d in documents)
    click.echo("Coverage by jurisdiction: " + ", ".join(f"{k} {v}" for k, v in sorted(by_jurisdiction.items())))
    by_publisher = Counter((d.jurisdiction, d.publisher) for d in documents)
    click.echo("Coverage by publisher:")
    for (jurisdiction, publisher), count in sorted(by_publisher.items()):
        click.echo(f"  {jurisdiction:4} {publisher:28} {count}")
    topics = Counter(t for d in documents for t in d.topics)
    click.echo("Coverage by topic (documents per topic, UK/US/INTL):")
    for topic, count in sorted(topics.items(), key=lambda item: (-item[1], item[0])):
        split = Counter(d.jurisdiction for d in documents if topic in d.topics)
        click.echo(f"  {topic:20} {count:3}  ({split.get('UK', 0)}/{split.get('US', 0)}/{split.get('INTL', 0)})")


@cli.command()
@click.option("--host", help="Address to listen on (default server.host).")
@click.option("--port", type=int, help="Port to listen on (default server.port).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the web chat at / and the HTTP API under /v1 on one port."""
    from bot.server.loader import BotHolder

    settings = _settings(ctx)
    # The model and the index load in the background while the web framework is imported and the app
    # built, rather than after; /readyz answers 503 until the bot is loaded.
    holder = BotHolder(settings)
    holder.start()
    try:
        from bot.server.app import serve as run_server
    except ImportError as exc:  # pragma: no cover
        raise click.ClickException(f"The server is not available: {exc}") from exc
    run_server(settings, host=host, port=port, holder=holder)


def _register_optional_commands() -> None:
    """Commands that live in their own modules (`bot eval`)."""
    try:
        from bot.eval.command import eval_command
    except ImportError:
        return
    cli.add_command(eval_command, "eval")


_register_optional_commands()


def main() -> None:
    """Entry point of the `bot` console script."""
    cli(prog_name="bot")


if __name__ == "__main__":
    main()
