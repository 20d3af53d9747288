"""Rewrite the settings tables from bot/settings.py: `python scripts/settings_table.py`.

docs/settings.md gets every setting; README.md gets the most used ones (COMMON).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import env_name, iter_fields  # noqa: E402

README = ROOT / "README.md"
SETTINGS_PAGE = ROOT / "docs" / "settings.md"
# The settings a newcomer reaches for first: the backend, where things are, and serving.
COMMON = (
    "llm.model",
    "corpus.path",
    "index.path",
    "index.chroma_url",
    "retrieval.quota",
    "answer.min_relevance",
    "server.host",
    "server.port",
    "server.api_key_hashes",
    "server.publishable_keys",
    "server.rate_limit",
    "store.url",
)
_TABLE = re.compile(r"\| setting \| env var \|.*?(?=\n\n|\Z)", flags=re.S)


def table(names: tuple[str, ...] | None = None) -> str:
    """The Markdown table of the named settings (all of them by default), in the settings tree's order."""
    rows = ["| setting | env var | default | what it does |", "|---|---|---|---|"]
    for name, default, description in iter_fields():
        if names is not None and name not in names:
            continue
        shown = json.dumps(str(default) if isinstance(default, Path) else default)
        rows.append(f"| `{name}` | `{env_name(name)}` | `{shown}` | {description.replace('|', '/')} |")
    return "\n".join(rows)


def rewrite(page: Path, new_table: str) -> None:
    """Replace the settings table of a page."""
    text = page.read_text()
    if not _TABLE.search(text):
        raise SystemExit(f"{page}: no settings table (a '| setting | env var |' header) to rewrite")
    page.write_text(_TABLE.sub(lambda _: new_table, text, count=1))


def main() -> None:
    rewrite(SETTINGS_PAGE, table())
    rewrite(README, table(COMMON))


if __name__ == "__main__":
    main()
