"""GitHub's issue search syntax, as Tide uses it, over the simulated world; without `sort:`
the order is a stable scramble ("best match"), never PR-number order."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from tide.sim.world.entities import SimIssue, SimPR

Predicate = Callable[[SimIssue], bool]
SORTS = {"updated", "created", "comments"}


@dataclass(frozen=True, slots=True)
class Term:
    key: str | None  # None: free text
    values: tuple[str, ...]
    negated: bool = False


class SearchSyntaxError(ValueError):
    pass


def tokenize(query: str) -> list[Term]:
    """Split a search string into terms; `label:"a b","c"` is one term with two values."""
    terms: list[Term] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        negated = query[i] == "-" and i + 1 < n and not query[i + 1].isspace()
        if negated:
            i += 1
        key: str | None = None
        j = i
        while j < n and (query[j].isalnum() or query[j] in "_-"):
            j += 1
        if j < n and query[j] == ":" and j > i:
            key = query[i:j].lower()
            i = j + 1
        values: list[str] = []
        while True:
            value, i = _value(query, i)
            values.append(value)
            if key is not None and i < n and query[i] == ",":
                i += 1
                continue
            break
        terms.append(Term(key, tuple(values), negated))
    return terms


def _value(query: str, i: int) -> tuple[str, int]:
    n = len(query)
    if i < n and query[i] == '"':
        end = query.find('"', i + 1)
        if end < 0:
            return query[i + 1 :], n
        return query[i + 1 : end], end + 1
    j = i
    while j < n and not query[j].isspace() and query[j] != ",":
        j += 1
    return query[i:j], j


@dataclass
class Search:
    predicates: list[Predicate]
    sort: tuple[str, bool] | None  # (field, descending)
    types: set[str]  # "pr", "issue"; empty means both
    scope_repos: set[str]  # lower-cased `repo:` values; with scope_orgs empty: every repo
    scope_orgs: set[str]

    def may_match_repo(self, owner: str, full_name: str) -> bool:
        """False when the positive `repo:`/`org:` scope excludes the repository outright."""
        if not self.scope_repos and not self.scope_orgs:
            return True
        return full_name.lower() in self.scope_repos or owner.lower() in self.scope_orgs

    def matches(self, item: SimIssue) -> bool:
        if self.types and ("pr" if item.is_pull else "issue") not in self.types:
            return False
        return all(p(item) for p in self.predicates)

    def run(self, items: Iterable[SimIssue], seed: int = 0) -> list[SimIssue]:
        found = [item for item in items if self.matches(item)]
        if self.sort is None:
            found.sort(key=lambda item: scramble(item, seed))
            return found
        field, descending = self.sort
        found.sort(
            key=lambda item: (_sort_value(item, field), scramble(item, seed)), reverse=descending
        )
        return found


@lru_cache(maxsize=1 << 16)
def _scramble(seed: int, key: str) -> bytes:
    return hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8]


def scramble(item: SimIssue, seed: int) -> bytes:
    """The item's stable place in "best match" order: a hash, not its number."""
    return _scramble(seed, item.key)


def _sort_value(item: SimIssue, field: str) -> datetime | int:
    if field == "created":
        return item.created_at
    if field == "comments":
        return len(item.comments)
    return item.updated_at


def parse(query: str) -> Search:
    predicates: list[Predicate] = []
    scope: list[Predicate] = []
    sort: tuple[str, bool] | None = None
    types: set[str] = set()
    scope_repos: set[str] = set()
    scope_orgs: set[str] = set()
    for term in tokenize(query):
        key, values, neg = term.key, term.values, term.negated
        value = values[0]
        if key == "sort":
            field, _, direction = value.lower().partition("-")
            if field in SORTS:
                sort = (field, direction != "asc")
            continue
        if key in ("is", "type") and value.lower() in ("pr", "pull-request", "issue") and not neg:
            types.add("issue" if value.lower() == "issue" else "pr")
            continue
        if key in ("repo", "org", "user") and not neg:
            scope.append(_scope(key, values))
            (scope_repos if key == "repo" else scope_orgs).update(v.lower() for v in values)
            continue
        predicate = _predicate(term)
        predicates.append((lambda p: lambda item: not p(item))(predicate) if neg else predicate)
    if scope:
        predicates.append(lambda item: any(p(item) for p in scope))
    return Search(predicates, sort, types, scope_repos, scope_orgs)


def _scope(key: str, values: tuple[str, ...]) -> Predicate:
    wanted = {v.lower() for v in values}
    if key == "repo":
        return lambda item: item.repo.full_name.lower() in wanted
    return lambda item: item.repo.owner.lower() in wanted


def _predicate(term: Term) -> Predicate:
    key, values = term.key, term.values
    lowered = {v.lower() for v in values}
    value = values[0].lower()
    if key is None:
        words = value
        return lambda item: words in item.title.lower() or words in item.body.lower()
    if key in ("repo", "org", "user"):
        return _scope(key, values)
    if key in ("is", "state"):
        return _state(value)
    if key == "archived":
        archived = value == "true"
        return lambda item: item.repo.archived == archived
    if key == "author":
        names = {v.removeprefix("app/") for v in lowered}
        return lambda item: (
            item.author.lower() in names or item.author.lower().removesuffix("[bot]") in names
        )
    if key == "label":
        return lambda item: any(label.lower() in lowered for label in item.labels)
    if key == "milestone":
        return lambda item: (item.milestone or "").lower() in lowered
    if key == "base":
        return lambda item: isinstance(item, SimPR) and item.base_ref.lower() in lowered
    if key == "head":
        return lambda item: isinstance(item, SimPR) and item.head_ref.lower() in lowered
    if key == "draft":
        draft = value == "true"
        return lambda item: isinstance(item, SimPR) and item.draft == draft
    if key == "review":
        decision = {
            "approved": "APPROVED",
            "changes_requested": "CHANGES_REQUESTED",
            "required": "REVIEW_REQUIRED",
            "none": None,
        }.get(value, "?")
        return lambda item: isinstance(item, SimPR) and item.review_decision == decision
    if key in ("updated", "created"):
        low, high = date_range(values[0])
        attr = "updated_at" if key == "updated" else "created_at"
        return lambda item: low <= getattr(item, attr) <= high
    if key == "comments":
        return lambda item: str(len(item.comments)) == value
    text = f"{key}:{value}"
    # GitHub reads an unknown qualifier as text to look for.
    return lambda item: text in item.title.lower() or text in item.body.lower()


def _state(value: str) -> Predicate:
    if value == "open":
        return lambda item: item.state == "OPEN"
    if value == "closed":
        return lambda item: item.state in ("CLOSED", "MERGED")
    if value == "merged":
        return lambda item: item.state == "MERGED"
    if value == "unmerged":
        return lambda item: item.is_pull and item.state == "CLOSED"
    if value == "draft":
        return lambda item: isinstance(item, SimPR) and item.draft
    if value in ("pr", "pull-request"):
        return lambda item: item.is_pull
    if value == "issue":
        return lambda item: not item.is_pull
    raise SearchSyntaxError(f"unknown state {value!r}")


MIN_TIME = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(9999, 12, 31, tzinfo=UTC)


def date_range(spec: str) -> tuple[datetime, datetime]:
    """`A..B` (either end `*`), `>=A`, `>A`, `<=A`, `<A` or `A`; both ends inclusive."""
    if ".." in spec:
        start, _, end = spec.partition("..")
        return _bound(start, upper=False), _bound(end, upper=True)
    for op in (">=", "<=", ">", "<"):
        if spec.startswith(op):
            at = spec[len(op) :]
            second = timedelta(seconds=1)
            if op == ">=":
                return _bound(at, upper=False), MAX_TIME
            if op == ">":
                return _bound(at, upper=True) + second, MAX_TIME
            if op == "<=":
                return MIN_TIME, _bound(at, upper=True)
            return MIN_TIME, _bound(at, upper=False) - second
    return _bound(spec, upper=False), _bound(spec, upper=True)


def _bound(text: str, *, upper: bool) -> datetime:
    text = text.strip()
    if text in ("", "*"):
        return MAX_TIME if upper else MIN_TIME
    try:
        if "T" not in text:
            day = datetime.fromisoformat(text).date()
            return datetime.combine(day, time(23, 59, 59) if upper else time(0), tzinfo=UTC)
        at = datetime.fromisoformat(text)
    except ValueError:
        raise SearchSyntaxError(f"invalid date {text!r}") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC)
