"""Validate a corpus folder: `python -m bot.corpus corpus/`."""

from bot.corpus.load import main

raise SystemExit(main())
