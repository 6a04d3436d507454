"""Filled in as the training strings are translated."""

ZH: dict[str, str] = {}
