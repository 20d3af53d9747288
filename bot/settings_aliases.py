"""Old setting names, kept working for one release: each use logs a deprecation line naming the new one."""

from __future__ import annotations

import logging
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import EnvSettingsSource

log = logging.getLogger("bot.settings")

# Old dotted name -> new dotted name (the LLM and verification settings left `answer` and the top level).
RENAMED: dict[str, str] = {
    "prompts_dir": "llm.prompts_dir",
    "answer.llm_passages": "llm.passages",
    "answer.llm_max_tokens": "llm.max_tokens",
    "answer.llm_temperature": "llm.temperature",
    "answer.llm_timeout_seconds": "llm.timeout_seconds",
    "answer.llm_retries": "llm.retries",
    "answer.min_llm_support": "verify.min_support",
    "answer.min_llm_coverage": "verify.min_coverage",
    "answer.min_llm_sentences": "verify.min_sentences",
    "answer.min_llm_kept_share": "verify.min_kept_share",
}
# Documented short forms, not deprecated: BOT_LLM=openai:gpt-4.1-mini and --llm set llm.model.
SHORTHANDS: dict[str, str] = {"llm": "llm.model"}

_warned: set[str] = set()


def _env(dotted: str) -> str:
    group, _, leaf = dotted.partition(".")
    return f"BOT_{group.upper()}" + (f"__{leaf.upper()}" if leaf else "")


def _warn(old: str) -> None:
    if old in _warned:
        return
    _warned.add(old)
    new = RENAMED[old]
    log.warning(
        "Setting %s (%s) is deprecated and goes in the next release: use %s (%s) instead.",
        old,
        _env(old),
        new,
        _env(new),
    )


def current_name(dotted: str) -> str:
    """The setting an old or short name stands for (a deprecated name logs a line)."""
    if dotted in RENAMED:
        _warn(dotted)
        return RENAMED[dotted]
    return SHORTHANDS.get(dotted, dotted)


def _pop(data: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    group, _, leaf = dotted.partition(".")
    if not leaf:
        return (True, data.pop(group)) if group in data else (False, None)
    values = data.get(group)
    if isinstance(values, dict) and leaf in values:
        return True, values.pop(leaf)
    return False, None


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Move values given under old names (settings input, env vars) to their new place; new names win."""
    data = {key: dict(value) if isinstance(value, dict) else value for key, value in data.items()}
    if isinstance(data.get("llm"), str):
        data["llm"] = {"model": data["llm"]}
    for old, new in RENAMED.items():
        found, value = _pop(data, old)
        if not found:
            continue
        _warn(old)
        group, _, leaf = new.partition(".")
        target = data.setdefault(group, {})
        if isinstance(target, dict):
            target.setdefault(leaf, value)
    return data


class EnvSource(EnvSettingsSource):
    """The environment, plus the short BOT_LLM=PROVIDER:MODEL and the deprecated top-level BOT_PROMPTS_DIR."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        if field_name == "llm" and isinstance(value, str) and not value.lstrip().startswith("{"):
            return {"model": value}
        return super().decode_complex_value(field_name, field, value)

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        old = self.env_vars.get("bot_prompts_dir")
        if old is not None:
            data.setdefault("prompts_dir", old)  # moved to llm.prompts_dir by Settings._old_names
        return data
