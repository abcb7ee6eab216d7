"""Remembered GET answers and their ETags, so a re-read can be a conditional request.

GitHub does not count a conditional request answered 304 Not Modified against the primary
rate limit; the daemon re-reads branch protection (and compares, statuses) every sync, so an
unchanged answer costs nothing. Bounded: the least recently used answers go first.
"""

from __future__ import annotations

from collections import OrderedDict

from tide.github.http import Response

MAX_ENTRIES = 512


class EtagCache:
    def __init__(self, capacity: int = MAX_ENTRIES) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[str, Response]] = OrderedDict()

    def validator(self, key: str) -> str | None:
        """The ETag to send as If-None-Match for `key`, when an answer is remembered."""
        entry = self._entries.get(key)
        return entry[0] if entry else None

    def answer(self, key: str, response: Response) -> Response:
        """The response to hand on: the remembered one for a 304, else `response`, which is
        remembered when it is a 200 carrying an ETag (and forgotten otherwise)."""
        if response.status == 304:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry[1]
            return response
        etag = response.headers.get("etag")
        if response.status == 200 and etag:
            self._entries[key] = (etag, response)
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        else:
            self._entries.pop(key, None)
        return response

    def __len__(self) -> int:
        return len(self._entries)
