"""Adapters that let other frameworks use the bot's retrieval and answers."""
