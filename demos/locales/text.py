"""Filled in as the text strings are translated."""

ZH: dict[str, str] = {}
