"""Two lanes: screen new PRs when failures are common, land screened ones in a stack (pure).

- **Landing lane.** Run k tests base + layer 1 + ... + layer k, built on run k-1's commit.
  The deepest passed run that sits on the base lands (fast-forward makes it exact; API
  merges land the same tree, which the next run checks); the runs above it stay valid. A
  failed run dooms only the runs built on it; their other PRs are stacked again below it.
- **Screening lane.** While failures are common (culprits found within `screen_window`
  plus failures still being resolved, at least `screen_failures_per_hour` over the window,
  or two failures unresolved at once, or any of them while `screen_backlog` PRs wait
  unproven), new PRs are first tested on the base in small
  parallel groups (`screen_batch`, or fewer after `screen_interval`), only to learn who is
  bad; a passed group needs no further single runs, and a PR that passed after it failed
  stacks with the others. Suspects of any failed run (screening or stacked) are tested
  alone, all at once; a PR that fails alone after failing as the only suspect is a culprit.
- **Pacing.** With no recent culprit, the stack takes a new layer of every ready PR at most
  once per `landing_interval` (few CI runs); with recent culprits each ready PR gets its own
  layer at once, so a failure names its culprit and latency stays near one CI run. Those
  layers are started together, each on the one before (a chain), so the PRs a failure
  set free are all restacked in the sync that sees it.
- **Hedges.** With recent culprits (not yet common enough to screen), the PRs above each
  layer still running and not yet proven are also stacked without it (newest layers
  first, while fewer than `hedge_runs` runs are in flight): if it fails, they land when
  the CI under way ends instead of a CI run later. Spare CI buys latency here.
- `max_concurrent_runs` caps the pool's pending runs, counting runs no longer needed until
  their CI ends (deleting a branch cancels nothing); the landing lane goes first.
"""

from __future__ import annotations

from tide.model import Layer, PullRequest, StagedPR
from tide.pool import STAGING_WRITES, Action, Decision, PoolState, Stack, Trigger, stacked_on
from tide.priority import in_priority_order
from tide.staging import Outcome
from tide.strategies.lanes_book import LAND, SCREEN, LaneBook, Placed, read_lanes
from tide.strategies.steps import RunBook, attempt_for, describe, read_runs

# Failures still being resolved at once that start screening whatever the hourly rate:
# a busy queue's first hour, before any culprit is confirmed.
SCREEN_AT_ONCE = 2


def _mode(pool: PoolState, book: LaneBook) -> str:
    """Screening when failures are common: the culprits found within `screen_window` and the
    failures still being resolved, per hour over the whole window (a new queue's first
    minutes are no rate), or `SCREEN_AT_ONCE` failures unresolved at once; or when any
    failure is recent and `screen_backlog` PRs wait unproven (a busy queue's first hour,
    and the hours its rate over the window understates)."""
    q = pool.policy.queue
    seen = book.recent_culprits + book.unresolved
    per_hour = seen * 3600.0 / max(q.screen_window, 3600.0)
    if q.screen_failures_per_hour > 0 and (
        per_hour >= q.screen_failures_per_hour
        or book.unresolved >= SCREEN_AT_ONCE
        or (seen and 0 < q.screen_backlog <= _unproven(pool, book))
    ):
        return "screening"
    return "failing" if book.recent_culprits else "calm"


def _unproven(pool: PoolState, book: LaneBook) -> int:
    """Eligible PRs no run has passed at their head yet (culprits aside)."""
    known = book.proven | {c.pr.number for c in book.culprits}
    return sum(1 for pr in pool.eligible if pr.number not in known)


def _stack_on(tail: Placed | None) -> Stack | None:
    """Build on the tail's commit, re-based on the layer the base has reached."""
    if tail is None:
        return None
    run, cut = tail.run, tail.offset
    if cut == 0:
        return stacked_on(run)
    below = next(la for la in run.layers if la.size == cut)
    layers = tuple(Layer(la.size - cut, la.commit_sha, la.tree_sha) for la in run.layers)
    layers = tuple(la for la in layers if la.size > 0)
    layers += (Layer(len(run.prs) - cut, run.commit_sha, run.tree_sha),)
    return Stack(run.commit_sha, below.commit_sha, below.tree_sha, tail.rest, layers)


def _chain_room(pool: PoolState, room: int) -> int:
    """How many runs a chain may start: CI capacity, and the writes each build sends."""
    if pool.write_room is None:
        return room
    return min(room, pool.write_room // (1 + STAGING_WRITES))


def _land_trigger(
    pool: PoolState, book: LaneBook, ready: list[PullRequest], mode: str, room: int
) -> Trigger | None:
    if not ready:
        return None
    q = pool.policy.queue
    first = ready[0]
    paced = mode == "calm" and first.number not in book.history
    last = book.last_land_start
    recent = last is not None and (pool.now - last).total_seconds() < q.landing_interval
    if paced and book.stack and recent:
        return None
    chain = mode == "failing" or first.number in book.history
    if mode == "failing":
        # Each PR its own layer, so a failure names its culprit; all of them at once.
        layer = ready[: max(1, _chain_room(pool, room))]
    elif chain:
        layer = [first]
    else:
        layer = [pr for pr in ready if pr.number not in book.history]
        layer = layer[: pool.policy.max_batch_size]
    tail = _tail(book)
    stack = _stack_on(tail)
    where = f"on {tail.run.ref}" if tail else f"on base {pool.base_sha[:7]}"
    each = ", each on the one before" if chain and len(layer) > 1 else ""
    attempt = 1 if stack else attempt_for(pool, layer[:1] if chain else layer)
    return Trigger(
        tuple(layer),
        attempt,
        f"stacking {describe(layer)} {where}{each}",
        lane=LAND,
        stack=stack,
        chain=chain,
    )


def _screen_triggers(
    pool: PoolState, book: LaneBook, fresh: list[PullRequest], room: int
) -> list[Trigger]:
    """Halves (then singles) of each failure's suspects, then groups of new PRs."""
    by_number = {pr.number: pr for pr in pool.eligible}
    # Already being tested alone: in a screening run, or alone on the base in the stack.
    alone = {p.rest[0].number for p in book.stack if len(p.rest) == 1}
    taken = set(book.screening) | {n for n in alone if n in by_number}
    out: list[Trigger] = []
    for failure in sorted(book.failures, key=lambda f: len(f.suspects)):
        left = [by_number[n] for n in failure.suspects if n not in taken and n in by_number]
        if not left or len(left) < len(failure.suspects):
            continue
        # Each suspect alone, all at once: one CI duration to know who failed.
        parts = [[pr] for pr in left]
        for part in parts:
            why = (
                f"testing #{part[0].number} alone after {failure.result.run.ref} failed"
                if len(part) == 1
                else f"screening {describe(part)}: suspects of {failure.result.run.ref}"
            )
            out.append(Trigger(tuple(part), attempt_for(pool, part), why, lane=SCREEN))
            taken.update(pr.number for pr in part)
    q = pool.policy.queue
    size = max(1, q.screen_batch)
    last = book.last_screen_start
    recent = last is not None and (pool.now - last).total_seconds() < q.screen_interval
    if len(fresh) < size and recent:
        fresh = []  # wait for a fuller group: a passed group needs no single runs
    groups = [fresh[i : i + size] for i in range(0, len(fresh), size)]
    for group in groups:
        why = f"screening {describe(group)} on base {pool.base_sha[:7]}"
        out.append(Trigger(tuple(group), attempt_for(pool, group), why, lane=SCREEN))
    return out[: max(0, room)]


def decide_lanes(pool: PoolState, runs: RunBook | None = None) -> Decision:
    # `runs` (what every strategy is given) only says which PRs are up to date; the lanes
    # read their runs their own way.
    up_to_date = (runs if runs is not None else read_runs(pool)).up_to_date
    book = read_lanes(pool)
    guilty = {c.pr.number for c in book.culprits}
    candidates = [pr for pr in pool.eligible if pr.number not in guilty]
    mode = _mode(pool, book)
    stacked = {p.number for placed in book.stack for p in placed.rest}
    suspects = {n for f in book.failures for n in f.suspects}
    waiting = stacked | suspects | book.deferred | book.screening
    ordered = in_priority_order(candidates, pool.policy.priority)
    free = [pr for pr in ordered if pr.number not in waiting]
    if mode == "screening":
        ready = [pr for pr in free if pr.number in book.proven]
        fresh = [pr for pr in free if pr.number not in book.proven]
    else:
        ready, fresh = free, []
    landing = _landing(book)
    triggers: list[Trigger] = []
    room = pool.policy.queue.max_concurrent_runs - book.running
    if pool.run_room is not None:
        room = min(room, pool.run_room)  # the overall cap: a chain cut to it still starts
    # Stack only on what this sync's landing keeps valid.
    steady = landing is None or landing in book.stack
    if room > 0:
        land = _land_trigger(pool, book, ready, mode, room) if steady else None
        if land is not None:
            triggers.append(land)
            room -= land.runs
        screen = _screen_triggers(pool, book, fresh, room)
        triggers += screen
        room -= sum(t.runs for t in screen)
        if mode == "failing" and landing is None:
            # Hedges come last, within what `hedge_runs` leaves them.
            started = sum(t.runs for t in triggers)
            spare = min(room, pool.policy.queue.hedge_runs - book.running - started)
            triggers += _hedges(pool, book, list(land.prs) if land else [], spare)
    if landing is not None:
        prs = _prs(pool, landing.rest)
        return Decision(
            Action.MERGE_BATCH if len(prs) > 1 else Action.MERGE,
            f"staging run {landing.run.ref} passed on base {pool.base_sha[:7]}: "
            f"merging {describe(prs)}",
            prs=prs,
            merge_run=landing.run,
            triggers=tuple(triggers),
            culprits=book.culprits,
            obsolete=book.obsolete,
        )
    if not book.stack and not book.inflight and not triggers:
        direct = [pr for pr in ordered if pr.number in up_to_date]
        if direct:
            pick = direct[0]
            return Decision(
                Action.MERGE,
                f"#{pick.number} already contains base {pool.base_sha[:7]} and its checks passed",
                prs=(pick,),
                culprits=book.culprits,
                obsolete=book.obsolete,
            )
    if triggers:
        prs = tuple(pr for t in triggers for pr in t.prs)
        return Decision(
            Action.TRIGGER_BATCH if len(prs) > 1 else Action.TRIGGER,
            "; ".join(t.why for t in triggers),
            prs=prs,
            triggers=tuple(triggers),
            culprits=book.culprits,
            obsolete=book.obsolete,
        )
    return Decision(
        Action.WAIT, _waiting(pool, book, mode), culprits=book.culprits, obsolete=book.obsolete
    )


def _tail(book: LaneBook) -> Placed | None:
    """The stack's top: the run that holds the most PRs still to land (the newest of them)."""
    return max(book.stack, key=lambda p: (len(p.rest), p.run.created_at), default=None)


def _hedges(
    pool: PoolState, book: LaneBook, planned: list[PullRequest], room: int
) -> list[Trigger]:
    """While culprits are recent: for each layer of the stack still running and not yet
    proven, the PRs above it are also stacked without it, so if it fails they land at the
    end of the CI run already under way instead of one more CI run later."""
    tail = _tail(book)
    if tail is None or room <= 0:
        return []
    by_number = {pr.number: pr for pr in pool.eligible}
    spine = {tail.run.commit_sha, *(la.commit_sha for la in tail.run.layers)}
    chain = sorted(
        (p for p in book.stack if p.run.commit_sha in spine), key=lambda p: len(p.run.prs)
    )
    by_commit = {p.run.commit_sha: p for p in book.stack}
    every = [s.number for s in tail.rest] + [pr.number for pr in planned]
    out: list[Trigger] = []
    # The newest layers first: their CI has the longest to go, so a hedge saves the most.
    for layer in reversed(chain):
        if layer.result.outcome != Outcome.PENDING:
            continue
        run = layer.run
        cut = max(run.layers[-1].size if run.layers else 0, layer.offset)
        if all(p.number in book.proven for p in run.prs[cut:]):
            continue
        below = [p.number for p in run.prs[layer.offset : cut]]
        above = every[len(layer.rest) :]
        if not above:
            continue
        onto, got = _hedged(book, below, above)
        if onto is None and below:
            onto = by_commit.get(run.layers[-1].commit_sha)
            if onto is None:
                continue  # the run below is gone: the stack is being rebuilt anyway
        missing = [by_number[n] for n in above[got:] if n in by_number]
        if not missing or len(missing) > room:
            continue
        where = f"on {onto.run.ref}" if onto else f"on base {pool.base_sha[:7]}"
        stack = _stack_on(onto)
        out.append(
            Trigger(
                tuple(missing),
                1 if stack else attempt_for(pool, missing[:1]),
                f"hedging {describe(missing)} {where} in case {run.ref} fails",
                lane=LAND,
                stack=stack,
                chain=True,
            )
        )
        room -= len(missing)
    return out


def _hedged(book: LaneBook, below: list[int], above: list[int]) -> tuple[Placed | None, int]:
    """The stacked run that holds `below` then the most of `above` in order (and nothing
    else), and how many of `above` it holds."""
    best: Placed | None = None
    got = 0
    for placed in book.stack:
        numbers = [p.number for p in placed.rest]
        extra = numbers[len(below) :]
        if numbers[: len(below)] != below or not extra or extra != above[: len(extra)]:
            continue
        if len(extra) > got:
            best, got = placed, len(extra)
    return best, got


def _landing(book: LaneBook) -> Placed | None:
    """The passed run that lands the most; a screening run only while nothing is stacked
    (landing it would move the base from under the stack)."""
    stacked = [p for p in book.landable if p.run.lane == LAND]
    pool_of = stacked or ([] if book.stack else list(book.landable))
    return max(pool_of, key=lambda p: (len(p.rest), -p.run.created_at.timestamp()), default=None)


def _prs(pool: PoolState, staged: tuple[StagedPR, ...]) -> tuple[PullRequest, ...]:
    by_number = {pr.number: pr for pr in pool.eligible}
    return tuple(by_number[p.number] for p in staged)


def _waiting(pool: PoolState, book: LaneBook, mode: str) -> str:
    if not pool.eligible:
        return "no eligible PRs"
    parts = [f"{len(book.inflight)} staging run(s) in flight"]
    if book.abandoned:
        parts.append(f"{len(book.abandoned)} no longer needed, still running")
    if book.stack:
        parts.append(f"{sum(len(p.rest) for p in book.stack)} PR slot(s) stacked")
    if book.running >= pool.policy.queue.max_concurrent_runs:
        parts.append(f"at max_concurrent_runs ({pool.policy.queue.max_concurrent_runs})")
    return f"waiting ({mode}): " + ", ".join(parts)
