"""Filled in as the genmodels strings are translated."""

ZH: dict[str, str] = {}
