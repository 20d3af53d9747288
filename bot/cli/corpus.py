"""The corpus commands: `bot corpus check`, `bot corpus review` and `bot sources`."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import click

from bot.cli.group import cli, current_settings, say


@cli.group()
def corpus() -> None:
    """Corpus tools."""


@corpus.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_context
def corpus_check(ctx: click.Context, path: Path | None) -> None:
    """Validate corpus files without indexing them."""
    from bot.corpus import corpus_version, load_corpus

    documents = load_corpus(path or current_settings(ctx).corpus.path)
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

    review = build_review(path or current_settings(ctx).corpus.path, as_of.date() if as_of else None, days)
    click.echo(json.dumps(review.to_json(), indent=2) if as_json else review_text(review))
    if review.problems:
        ctx.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the documents as JSON.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List the documents in the index with a coverage table."""
    from bot.errors import IndexMissingError
    from bot.index import indexed_documents

    try:  # the current build's documents, without loading the model
        documents = sorted(indexed_documents(current_settings(ctx)), key=lambda d: (d.jurisdiction, d.publisher, d.id))
    except IndexMissingError:
        from bot.core import Bot

        documents = Bot(current_settings(ctx), progress=say).sources()  # builds the index first
    if as_json:
        click.echo(
            json.dumps([d.info().model_dump(mode="json") for d in documents], indent=2)  # as GET /v1/sources lists them
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
