"""Question analysis: who the investor is, what they hold and ask, and the intent (bot/analysis/reading.py),
from the vocabulary (vocabulary.py) and hand-written patterns (patterns.py); `describe` writes the
'What I understood' line."""

from bot.analysis.describe import describe
from bot.analysis.reading import analyse, generic_firms, has_own_subject, merge_history, tax_only

__all__ = ["analyse", "describe", "generic_firms", "has_own_subject", "merge_history", "tax_only"]
