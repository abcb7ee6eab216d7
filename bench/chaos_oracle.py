"""The judge of a chaos run, from the simulator's own record (never the daemon's word):

(a) the base branch pointed at a commit whose tree fails CI;
(b) a PR merged that was not eligible: one of the kinds that must never merge, or a head
    whose own check had not passed when it merged;
(c) the base moved (by tide) to a combination no passed run tested: neither its tree passed
    CI on some commit before the move, nor is it a prefix of a passed staging commit's
    combination, read from that commit's parents (base, then each PR head merged in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bench.chaos_world import BASE, BOT, CONTEXT, INELIGIBLE_KINDS, REPO, Outcome
from tide.sim.world.ci import FakeCI
from tide.sim.world.entities import SimRepo

Tree = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    merged: int
    base_failing: list[str]  # (a) base commits whose tree fails
    ineligible: list[str]  # (b) PRs that should never have merged
    untested: list[str]  # (c) base moves no passed run covers

    @property
    def unsafe(self) -> bool:
        return bool(self.base_failing or self.ineligible or self.untested)


def _tree(repo: SimRepo, sha: str) -> Tree:
    return tuple(sorted(repo.git.commits[sha].tree.items()))


def _passes(ci: FakeCI, repo: SimRepo) -> list[tuple[str, datetime]]:
    """(sha, when) for every commit on which CI reported success."""
    return [
        (r.sha, r.ended_at)
        for r in ci.runs
        if r.context == CONTEXT and r.result == "success" and r.ended_at is not None
    ]


def _combination(repo: SimRepo, sha: str) -> tuple[str, tuple[str, ...]]:
    """What a staging commit really holds: the first-parent chain down to a commit that is
    not a merge, and the second parent merged at each step (PR heads, oldest first)."""
    heads: list[str] = []
    commit = repo.git.commits[sha]
    while len(commit.parents) == 2:
        heads.append(commit.parents[1])
        commit = repo.git.commits[commit.parents[0]]
    return commit.sha, tuple(reversed(heads))


def judge(out: Outcome) -> Verdict:
    world = out.world
    repo = world.repo(REPO)
    ci = repo.ci
    assert ci is not None
    git = repo.git
    base_failing = [
        sha[:7] for sha in dict.fromkeys(git.history[BASE]) if not ci.verdict(git.commits[sha].tree)
    ]
    passes = _passes(ci, repo)
    merged = [pr for pr in repo.pulls.values() if pr.state == "MERGED"]
    ineligible: list[str] = []
    for pr in merged:
        kind = out.numbers.get(pr.number, "?")
        if kind in INELIGIBLE_KINDS:
            ineligible.append(f"#{pr.number} ({kind})")
            continue
        own = [
            r
            for r in ci.runs_on(pr.head_sha)
            if r.context == CONTEXT and r.ref == pr.head_ref and r.ended_at is not None
        ]
        passed = any(
            r.result == "success" and pr.merged_at and r.ended_at <= pr.merged_at for r in own
        )
        if not passed:
            ineligible.append(f"#{pr.number} (head {pr.head_sha[:7]} never passed its own check)")
    untested = _untested(out, repo, passes)
    return Verdict(len(merged), base_failing, ineligible, untested)


def _untested(out: Outcome, repo: SimRepo, passes: list[tuple[str, datetime]]) -> list[str]:
    world = out.world
    merges_by_sha = {m.sha: m for m in world.journal.merges if m.repo == REPO}
    tested_trees: dict[Tree, datetime] = {}
    combos: dict[tuple[str, tuple[str, ...]], datetime] = {}
    for sha, when in passes:
        tree = _tree(repo, sha)
        tested_trees[tree] = min(when, tested_trees.get(tree, when))
        combo = _combination(repo, sha)
        combos[combo] = min(when, combos.get(combo, when))
    found: list[str] = []
    for push in world.journal.branch_pushes(REPO, BASE):
        if push.actor != BOT or push.new is None:
            continue
        when = tested_trees.get(_tree(repo, push.new))
        if when is not None and when <= push.at:
            continue
        if _prefix_of_passed(push.new, push.at, merges_by_sha, combos):
            continue
        found.append(f"base -> {push.new[:7]} at {push.at:%H:%M:%S}")
    return found


def _prefix_of_passed(
    sha: str,
    at: datetime,
    merges: Mapping[str, object],
    combos: Mapping[tuple[str, tuple[str, ...]], datetime],
) -> bool:
    """Whether the merges leading to `sha` are the first PRs of a passed staging commit, on
    the same base, merged in the same order."""
    heads: list[str] = []
    current = sha
    while current in merges:
        record = merges[current]
        heads.insert(0, record.head_sha)  # type: ignore[attr-defined]
        current = record.base_sha_before  # type: ignore[attr-defined]
        for (base, combo), when in combos.items():
            if base == current and combo[: len(heads)] == tuple(heads) and when <= at:
                return True
    return False
