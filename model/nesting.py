"""JSON from outside (request bodies, uploaded files) parsed with a limit on how deeply it nests.

Python's JSON parser recurses: a text of 100,000 ``[`` raises RecursionError (not ValueError), and
a value nested a few hundred levels deep breaks any recursive code that walks it later. ``loads``
turns both into :class:`TooDeep`, a ValueError with a message, so callers treat it as bad input.
"""

from __future__ import annotations

import json


class TooDeep(ValueError):
    """JSON nested more deeply than allowed; the message says how deep it may be."""


def depth(value: object, limit: int) -> int:
    """How deeply ``value``'s lists and dicts nest (a scalar: 0), counted a level at a time up to ``limit + 1``."""
    deepest, level = 0, [value]
    while deepest <= limit:
        containers = [node for node in level if isinstance(node, list | dict)]
        if not containers:
            break
        deepest += 1
        level = [
            child for node in containers for child in (node.values() if isinstance(node, dict) else node)
        ]
    return deepest


def loads(raw: str | bytes, limit: int, what: str = "The JSON") -> object:
    """``json.loads(raw)``; TooDeep when it nests more than ``limit`` levels (ValueError when it is no JSON)."""
    message = f"{what} is nested more than {limit} levels deep."
    try:
        value = json.loads(raw)
    except RecursionError:  # deeper than the parser goes
        raise TooDeep(message) from None
    if depth(value, limit) > limit:
        raise TooDeep(message)
    return value
