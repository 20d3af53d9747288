"""Composers turn retrieved evidence into a cited answer: extractive (default, offline) or an LLM whose
every sentence passes citation verification. `citations` is the one place that numbers citations."""
