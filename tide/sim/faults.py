"""Injected failures: seeded random 5xx, secondary rate limits, latency and dropped
connections, plus a scripted queue of exact answers for precise tests."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

SECONDARY_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID {rid}."
)
SECONDARY_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
BAD_GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><p>The server returned an invalid or incomplete "
    "response.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to one request instead of (or after) answering it normally."""

    status: int = 0  # 0: no replacement response
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    content_type: str = "application/json"
    drop: bool = False  # close the connection without a response
    delay: float = 0.0  # clock seconds to wait first
    after: bool = False  # perform the request, then answer with this fault


@dataclass
class ScriptedFault:
    path_glob: str
    fault: Fault
    times: int
    method: str | None = None
    operation: str | None = None

    def matches(self, method: str, path: str, operation: str | None) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.operation is not None and self.operation != operation:
            return False
        return fnmatchcase(path, self.path_glob)


@dataclass
class Faults:
    """Seeded fault injection; all rates are probabilities per request (default none)."""

    seed: int = 0
    error_rate: float = 0.0
    secondary_rate_limit_rate: float = 0.0
    drop_rate: float = 0.0
    # Writes (REST, not GET) performed, then their connection dropped: the answer is lost.
    lost_rate: float = 0.0
    latency_rate: float = 0.0
    latency: tuple[float, float] = (0.05, 0.3)
    retry_after: int = 1
    scripted: list[ScriptedFault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._request_ids = 0

    def script(
        self,
        path_glob: str,
        status: int = 0,
        headers: dict[str, str] | None = None,
        body: str | dict[str, object] | list[object] | None = None,
        times: int = 1,
        *,
        method: str | None = None,
        operation: str | None = None,
        after: bool = False,
        drop: bool = False,
        delay: float = 0.0,
    ) -> ScriptedFault:
        """Answer the next `times` matching requests with `status`/`headers`/`body`.

        `path_glob` matches the request path (`/repos/o/r/pulls/*/merge`, `/graphql`);
        `operation` narrows GraphQL requests to one operation name; `after=True` performs
        the request first (a write that was applied although the answer says otherwise);
        `drop=True` closes the connection instead of answering.
        """
        if not status and not drop and not delay:
            raise ValueError("a scripted fault needs a status, drop=True or a delay")
        if isinstance(body, (dict, list)):
            text, content_type = json.dumps(body), "application/json"
        elif body is None and status:
            text, content_type = json.dumps({"message": f"Simulated {status}"}), "application/json"
        else:
            text = body or ""
            content_type = "text/html" if text.lstrip().startswith("<") else "application/json"
        fault = Fault(
            status=status,
            headers=tuple((headers or {}).items()),
            body=text,
            content_type=content_type,
            drop=drop,
            delay=delay,
            after=after,
        )
        entry = ScriptedFault(path_glob, fault, times, method, operation)
        self.scripted.append(entry)
        return entry

    def base_branch_modified(
        self, path_glob: str = "/repos/*/pulls/*/merge", times: int = 1
    ) -> None:
        """GitHub's transient 405 on a merge while the base moves."""
        self.script(
            path_glob,
            405,
            body={
                "message": "Base branch was modified. Review and try the merge again.",
                "documentation_url": "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request",
            },
            times=times,
            method="PUT",
        )

    def clear(self) -> None:
        self.scripted.clear()
        self.error_rate = self.secondary_rate_limit_rate = self.drop_rate = 0.0
        self.latency_rate = self.lost_rate = 0.0

    def pick(self, method: str, path: str, operation: str | None = None) -> Fault | None:
        for entry in self.scripted:
            if entry.times > 0 and entry.matches(method, path, operation):
                entry.times -= 1
                if entry.times == 0:
                    self.scripted.remove(entry)
                return entry.fault
        write = method.upper() not in ("GET", "HEAD") and path != "/graphql"
        if self.lost_rate and write and self._rng.random() < self.lost_rate:
            return Fault(drop=True, after=True)
        return self._random()

    def _random(self) -> Fault | None:
        roll = self._rng.random()
        delay = 0.0
        if self.latency_rate and self._rng.random() < self.latency_rate:
            delay = self._rng.uniform(*self.latency)
        if roll < self.drop_rate:
            return Fault(drop=True, delay=delay)
        roll -= self.drop_rate
        if roll < self.error_rate:
            if self._rng.random() < 0.5:
                return Fault(
                    status=502, body=BAD_GATEWAY_HTML, content_type="text/html", delay=delay
                )
            body = json.dumps({"message": "Service Unavailable"})
            return Fault(status=503, body=body, delay=delay)
        roll -= self.error_rate
        if roll < self.secondary_rate_limit_rate:
            self._request_ids += 1
            body = json.dumps(
                {
                    "message": SECONDARY_LIMIT.format(rid=f"SIM:{self._request_ids:08X}"),
                    "documentation_url": SECONDARY_DOCS,
                }
            )
            status = 403 if self._rng.random() < 0.5 else 429
            return Fault(
                status=status,
                headers=(("Retry-After", str(self.retry_after)),),
                body=body,
                delay=delay,
            )
        return Fault(delay=delay) if delay else None
