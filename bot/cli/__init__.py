"""The `bot` command line.

`group` holds the `bot` group, its help and the setting flags; `commands` has settings, index, ask
and serve; `corpus` has corpus check, corpus review and sources; `holding` has holding; `bot eval`
lives in bot/eval/command.py.
"""

from __future__ import annotations

import os

from bot.cli import commands, corpus, holding  # noqa: F401 (importing them registers their commands)
from bot.cli.group import cli

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

__all__ = ["cli", "main"]


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
