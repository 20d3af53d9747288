"""Rewrite the settings table in README.md from bot/settings.py: `python scripts/settings_table.py`."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import env_name, iter_fields  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"


def table() -> str:
    rows = ["| setting | env var | default | what it does |", "|---|---|---|---|"]
    for name, default, description in iter_fields():
        shown = json.dumps(str(default) if isinstance(default, Path) else default)
        rows.append(f"| `{name}` | `{env_name(name)}` | `{shown}` | {description.replace('|', '/')} |")
    return "\n".join(rows)


def main() -> None:
    text = README.read_text()
    new = re.sub(r"\| setting \| env var \|.*?(?=\n\n)", table(), text, flags=re.S)
    README.write_text(new)


if __name__ == "__main__":
    main()
