"""JSON text to values, where nesting too deep for the parser is a plain ValueError.

json.loads raises RecursionError on `[[[[...` a few thousand levels deep; callers that
report "not valid JSON" by catching ValueError would otherwise say only "RecursionError".
"""

from __future__ import annotations

import json
from typing import Any


class TooDeep(ValueError):
    """The text nests arrays or objects deeper than the parser can follow."""


def loads(text: str, decoder: json.JSONDecoder | None = None) -> Any:
    """json.loads(text), or `decoder`'s (a reader with options, made once), raising TooDeep
    instead of RecursionError."""
    try:
        return decoder.decode(text) if decoder is not None else json.loads(text)
    except RecursionError:
        raise TooDeep(
            "arrays or objects nested more than about 1000 levels deep, deeper than Python's JSON reader follows"
        ) from None
