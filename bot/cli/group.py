"""The `bot` group: its help, the setting flags (every setting is a flag) and what the commands share."""

from __future__ import annotations

import logging
from typing import Any

import click

from bot import settings_aliases
from bot.errors import BotError
from bot.settings import Settings, iter_fields, with_overrides


def say(message: str) -> None:
    """Tell the user on stderr what is loading, so a cold start is not a silent wait."""
    click.echo(message, err=True)


def current_settings(ctx: click.Context) -> Settings:
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
