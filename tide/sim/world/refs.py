"""Git references through the API: create, move and delete branches, under branch protection."""

from __future__ import annotations

from typing import Protocol

from tide.sim.world.contexts import required_problem
from tide.sim.world.entities import Refusal, SimRepo

PROTECTION_DOCS = "https://docs.github.com/articles/about-protected-branches"
NOT_AUTHORIZED = (
    "You're not authorized to push to this branch. Visit "
    "https://docs.github.com/articles/about-protected-branches/ for more information."
)


class Pushes(Protocol):
    """Where an accepted ref change lands: `World.move_branch` applies what GitHub does on a
    push (PRs follow, CI starts, hooks fire)."""

    def move_branch(self, repo: SimRepo, branch: str, sha: str | None, *, actor: str) -> None: ...


def branch_of(ref: str) -> str:
    """`refs/heads/x` or `heads/x` -> `x`; refuses anything that is not a branch."""
    name = ref.removeprefix("refs/")
    if not name.startswith("heads/") or name == "heads/":
        raise Refusal(422, "Reference update failed: the simulator supports branches only")
    return name.removeprefix("heads/")


def check_push(repo: SimRepo, branch: str, old: str | None, new: str) -> None:
    """What branch protection says to a push of `new` onto `branch` (raises `Refusal`)."""
    rule = repo.protection(branch)
    if rule is None:
        return
    if not rule.allow_direct_push:
        raise Refusal(422, NOT_AUTHORIZED, documentation_url=PROTECTION_DOCS)
    if old is not None and not repo.git.is_ancestor(old, new) and not rule.allow_force_push:
        raise Refusal(422, "Cannot force-push to this branch", documentation_url=PROTECTION_DOCS)
    problem = required_problem(repo, new, rule.contexts)
    if problem:
        raise Refusal(422, problem, documentation_url=PROTECTION_DOCS)


def create_ref(world: Pushes, repo: SimRepo, ref: str, sha: str, *, actor: str) -> str:
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise Refusal(422, "Reference name must start with 'refs/' and have at least two slashes.")
    branch = branch_of(ref)
    if sha not in repo.git.commits:
        raise Refusal(422, "Object does not exist")
    if branch in repo.git.branches:
        raise Refusal(422, "Reference already exists")
    for existing in repo.git.branches:
        # git keeps refs as paths: `a` and `a/b` cannot both exist.
        if existing.startswith(branch + "/") or branch.startswith(existing + "/"):
            raise Refusal(422, f"Reference cannot be created: refs/heads/{existing} exists")
    check_push(repo, branch, None, sha)
    world.move_branch(repo, branch, sha, actor=actor)
    return branch


def update_ref(
    world: Pushes, repo: SimRepo, ref: str, sha: str, *, force: bool, actor: str
) -> None:
    branch = branch_of(ref)
    old = repo.git.branches.get(branch)
    if old is None:
        raise Refusal(422, "Reference does not exist")
    if sha not in repo.git.commits:
        raise Refusal(422, "Object does not exist")
    if not force and not repo.git.is_ancestor(old, sha):
        raise Refusal(422, "Update is not a fast forward")
    check_push(repo, branch, old, sha)
    world.move_branch(repo, branch, sha, actor=actor)


def delete_ref(world: Pushes, repo: SimRepo, ref: str, *, actor: str) -> None:
    branch = branch_of(ref)
    if branch not in repo.git.branches:
        raise Refusal(422, "Reference does not exist")
    rule = repo.protection(branch)
    if rule is not None and not rule.allow_deletion:
        raise Refusal(422, "Cannot delete this protected branch", documentation_url=PROTECTION_DOCS)
    world.move_branch(repo, branch, None, actor=actor)
