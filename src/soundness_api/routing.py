"""Path templates to handlers: "/v1/models/{name}:predict" matches "/v1/models/m:predict" with
params {"name": "m"}. A segment in braces matches one path segment; the rest is literal."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from starlette.responses import Response

from .exchange import Exchange

Handler = Callable[[Exchange], Awaitable[Response]]
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Match:
    template: str
    methods: dict[str, Handler]
    params: dict[str, str]


def _pattern(template: str) -> re.Pattern[str]:
    parts, last = [], 0
    for param in _PARAM.finditer(template):
        parts += [re.escape(template[last : param.start()]), f"(?P<{param.group(1)}>[^/]+)"]
        last = param.end()
    return re.compile("".join([*parts, re.escape(template[last:])]))


class Router:
    def __init__(self, table: Iterable[tuple[str, str, Handler]]):
        """table: (method, path template, handler) rows."""
        self._methods: dict[str, dict[str, Handler]] = {}
        for method, template, handler in table:
            self._methods.setdefault(template, {})[method] = handler
        # Literal paths are one dict lookup; templates are tried in the table's order.
        self._templated = [(_pattern(t), t, m) for t, m in self._methods.items() if _PARAM.search(t)]

    def routes(self) -> set[tuple[str, str]]:
        """Every (method, path template) served."""
        return {(method, template) for template, methods in self._methods.items() for method in methods}

    def match(self, path: str) -> Match | None:
        methods = self._methods.get(path)
        if methods is not None and not _PARAM.search(path):
            return Match(path, methods, {})
        for pattern, template, methods in self._templated:
            found = pattern.fullmatch(path)
            if found:
                return Match(template, methods, found.groupdict())
        return None
