"""Filled in as the vae strings are translated."""

ZH: dict[str, str] = {}
