"""Filled in as the lesson strings are translated."""

ZH: dict[str, str] = {}
