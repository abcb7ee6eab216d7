"""Is a branch under the staging prefix really one of tide's runs? (pure)

A run's trailers are only claims: anyone with push access can write the same message on a
commit of their own. Two checks turn a claim into evidence, and both must hold:

1. **tide's mark.** Right after building a run, and before its branch exists, tide sets its
   own status context on the staging commit with the description `Tide staging run <id>`,
   where `<id>` hashes the claimed base, PRs, heads and attempt. A run counts only when that
   status is there and its `creator` is the identity tide acts as. Nobody else can create a
   status as tide, and tide writes this description on nothing but commits it built itself
   (via `POST /merges`, whose trees GitHub computes): this is what closes a commit made with
   the git data API that has the right parents but a tree of the forger's choosing, which no
   graph check can see.
2. **The commit graph.** The commit's first-parent chain must be exactly the claimed base with
   each claimed PR head merged in, in order: for the last PR, parents (previous step, head);
   ...; for the first, (base, head). So the message cannot claim what the commit does not
   contain, even if a mark were misplaced. The parents are read through GraphQL for marked
   commits only (an unmarked branch costs nothing) and cached: commits never change.

Anything else under the prefix is foreign: ignored, never deleted, never evidence against a
PR. The mark is checked before the graph, so a forger cannot make tide spend its budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tide.model import Context, StagingRun
from tide.staging import run_id, run_salt

MARK_PREFIX = "Tide staging run "

Parents = Mapping[str, tuple[str, ...]]


def mark_description(rid: str) -> str:
    """The description of the status tide sets on a staging commit it built."""
    return f"{MARK_PREFIX}{rid}"


def claimed_id(run: StagingRun) -> str:
    salt = run_salt(run.lane, run.layers, run.base_tree)
    return run_id(run.org, run.repo, run.branch, run.base_sha, run.prs, run.attempt, salt)


def same_identity(a: str, b: str) -> bool:
    """GitHub spells an App's bot `name[bot]` in some places and `name` in others."""

    def norm(login: str) -> str:
        return login.strip().lower().removesuffix("[bot]")

    return bool(a.strip()) and norm(a) == norm(b)


def mark_problem(
    run: StagingRun, contexts: Iterable[Context], status_context: str, identity: str
) -> str | None:
    """Why the run lacks tide's mark, or None when it carries it."""
    if not identity:
        return "tide's own identity is unknown, so its mark cannot be checked"
    wanted = mark_description(claimed_id(run))
    mine = [c for c in contexts if c.name == status_context and not c.is_check_run]
    if not mine:
        return f"no {status_context} status marks it as a run tide built"
    if not any(c.description == wanted for c in mine):
        return f"its {status_context} status does not name this run"
    if not any(c.description == wanted and same_identity(c.creator, identity) for c in mine):
        return f"its {status_context} status was not set by {identity}"
    return None


def chain(run: StagingRun, parents: Parents) -> list[str]:
    """The first-parent chain from the run's commit as far as `parents` knows it (at most
    one step per claimed PR): the commits whose parents the graph check needs."""
    out = [run.commit_sha]
    for _ in run.prs[:-1]:
        known = parents.get(out[-1])
        if not known:
            break
        out.append(known[0])
    return out


def unknown_step(run: StagingRun, parents: Parents) -> str | None:
    """The first commit of the chain whose parents are not read yet, if any."""
    for sha in chain(run, parents):
        if sha not in parents:
            return sha
    return None


def graph_problem(run: StagingRun, parents: Parents) -> str | None:
    """Why the commit is not the claimed base with the claimed heads merged in order, or
    None when it is. A commit whose parents are not in `parents` is a problem too."""
    if not run.prs:
        return "it names no PR"
    current = run.commit_sha
    for pr in reversed(run.prs):
        known = parents.get(current)
        if known is None:
            return f"the parents of {current[:7]} could not be read"
        if len(known) != 2 or known[1] != pr.head_sha:
            return f"{current[:7]} is not a merge of #{pr.number} at {pr.head_sha[:7]}"
        current = known[0]
    if current != run.base_sha:
        return f"its first parents lead to {current[:7]}, not the claimed base {run.base_sha[:7]}"
    return None
