"""The simulator's git: immutable content-addressed commits, branches, ancestry, and
3-way merges at file level over flat `path -> content` trees."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType

Tree = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    tree: Tree = field(repr=False)
    parents: tuple[str, ...]
    message: str
    author: str
    committed_at: datetime
    # Length of the longest parent chain; prunes ancestry walks.
    generation: int = 0

    @property
    def headline(self) -> str:
        return self.message.split("\n", 1)[0]


class MergeConflict(Exception):
    """A path changed differently on both sides (or deleted on one and changed on the other)."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = tuple(sorted(paths))
        super().__init__(f"merge conflict in {', '.join(self.paths)}")


def commit_sha(
    tree: Tree, parents: tuple[str, ...], message: str, author: str, at: datetime
) -> str:
    h = hashlib.sha1()
    for path in sorted(tree):
        h.update(f"{path}\0{tree[path]}\0".encode())
    h.update("\1".join(parents).encode())
    h.update(f"\1{message}\1{author}\1{at.isoformat()}".encode())
    return h.hexdigest()


def tree_sha(tree: Tree) -> str:
    h = hashlib.sha1()
    for path in sorted(tree):
        h.update(f"{path}\0{tree[path]}\0".encode())
    return h.hexdigest()


def merge_trees(base: Tree, ours: Tree, theirs: Tree) -> dict[str, str]:
    """Three-way merge at file level; raises `MergeConflict`."""
    out: dict[str, str] = {}
    conflicts: list[str] = []
    for path in set(ours) | set(theirs) | set(base):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if o == t:
            merged = o
        elif o == b:
            merged = t
        elif t == b:
            merged = o
        else:
            conflicts.append(path)
            continue
        if merged is not None:
            out[path] = merged
    if conflicts:
        raise MergeConflict(conflicts)
    return out


def apply_changes(
    tree: Tree, files: Mapping[str, str] | None, deleted: Iterable[str] = ()
) -> dict[str, str]:
    out = dict(tree)
    out.update(files or {})
    for path in deleted:
        out.pop(path, None)
    return out


class GitStore:
    """One repository's objects and branches, plus every commit each branch pointed to."""

    def __init__(self) -> None:
        self.commits: dict[str, Commit] = {}
        self.branches: dict[str, str] = {}
        self.history: dict[str, list[str]] = {}
        self._ancestors = lru_cache(maxsize=256)(self._compute_ancestors)
        self._clean_merges: dict[tuple[str, str], bool] = {}
        self._clean_rebases: dict[tuple[str, str], bool] = {}

    def make_commit(
        self,
        tree: Tree,
        parents: Iterable[str],
        message: str,
        author: str,
        at: datetime,
    ) -> Commit:
        parents = tuple(parents)
        for p in parents:
            if p not in self.commits:
                raise KeyError(f"unknown parent commit {p}")
        frozen = MappingProxyType(dict(tree))
        sha = commit_sha(frozen, parents, message, author, at)
        if sha in self.commits:
            return self.commits[sha]
        gen = 1 + max((self.commits[p].generation for p in parents), default=0)
        commit = Commit(sha, frozen, parents, message, author, at, gen)
        self.commits[sha] = commit
        return commit

    def set_branch(self, name: str, sha: str) -> str | None:
        """Point `name` at `sha`; returns the previous sha (None for a new branch)."""
        if sha not in self.commits:
            raise KeyError(f"unknown commit {sha}")
        old = self.branches.get(name)
        self.branches[name] = sha
        if old != sha:
            self.history.setdefault(name, []).append(sha)
        return old

    def delete_branch(self, name: str) -> str:
        return self.branches.pop(name)

    def head(self, branch: str) -> Commit | None:
        sha = self.branches.get(branch)
        return self.commits[sha] if sha else None

    def resolve(self, ref: str) -> Commit | None:
        """A full sha, an abbreviated sha (7+ hex digits), a branch, or `heads/<b>`."""
        if ref in self.commits:
            return self.commits[ref]
        for name in (ref, ref.removeprefix("refs/").removeprefix("heads/")):
            if name in self.branches:
                return self.commits[self.branches[name]]
        if 7 <= len(ref) < 40 and all(c in "0123456789abcdef" for c in ref):
            found = [c for s, c in self.commits.items() if s.startswith(ref)]
            if len(found) == 1:
                return found[0]
        return None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when `ancestor` is reachable from `descendant` (a commit is its own ancestor)."""
        if ancestor == descendant:
            return True
        target = self.commits[ancestor]
        start = self.commits[descendant]
        if start.generation <= target.generation:
            return False
        seen = {descendant}
        stack = [descendant]
        while stack:
            for p in self.commits[stack.pop()].parents:
                if p == ancestor:
                    return True
                if p not in seen and self.commits[p].generation > target.generation:
                    seen.add(p)
                    stack.append(p)
        return False

    def ancestors(self, sha: str) -> frozenset[str]:
        return self._ancestors(sha)

    def _compute_ancestors(self, sha: str) -> frozenset[str]:
        seen = {sha}
        stack = [sha]
        while stack:
            for p in self.commits[stack.pop()].parents:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return frozenset(seen)

    def merge_base(self, a: str, b: str) -> str | None:
        """The common ancestor with the greatest generation (git's best merge base).

        Walks down from `b` against the cached ancestry of `a`: cheap when `a` is a base
        branch head asked about many times and `b` a pull request head a few commits deep.
        """
        of_a = self.ancestors(a)
        heap = [(-self.commits[b].generation, b)]
        seen = {b}
        while heap:
            _, sha = heapq.heappop(heap)
            if sha in of_a:
                return sha
            for p in self.commits[sha].parents:
                if p not in seen:
                    seen.add(p)
                    heapq.heappush(heap, (-self.commits[p].generation, p))
        return None

    def only_in(self, head: str, base: str) -> list[Commit]:
        """Commits reachable from `head` but not from `base`, oldest first."""
        excluded = self.ancestors(base)
        out: list[Commit] = []
        seen = {head}
        stack = [head]
        while stack:
            sha = stack.pop()
            if sha in excluded:
                continue
            out.append(self.commits[sha])
            for p in self.commits[sha].parents:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        out.sort(key=lambda c: (c.generation, c.committed_at, c.sha))
        return out

    def merge_result(self, ours: str, theirs: str) -> dict[str, str]:
        """The tree of merging `theirs` into `ours`; raises `MergeConflict`."""
        base_sha = self.merge_base(ours, theirs)
        base_tree: Tree = self.commits[base_sha].tree if base_sha else {}
        return merge_trees(base_tree, self.commits[ours].tree, self.commits[theirs].tree)

    def merges_cleanly(self, ours: str, theirs: str) -> bool:
        key = (ours, theirs)
        if key not in self._clean_merges:
            try:
                self.merge_result(ours, theirs)
                self._clean_merges[key] = True
            except MergeConflict:
                self._clean_merges[key] = False
        return self._clean_merges[key]

    def rebases_cleanly(self, commits: list[Commit], onto: str) -> bool:
        key = (onto, commits[-1].sha if commits else "")
        if key not in self._clean_rebases:
            try:
                self.replay_trees(commits, onto)
                self._clean_rebases[key] = True
            except MergeConflict:
                self._clean_rebases[key] = False
        return self._clean_rebases[key]

    def replay_trees(self, commits: Iterable[Commit], onto: str) -> list[dict[str, str]]:
        """The trees of cherry-picking `commits` one by one onto `onto`; raises `MergeConflict`."""
        current: Tree = self.commits[onto].tree
        out: list[dict[str, str]] = []
        for commit in commits:
            parent: Tree = self.commits[commit.parents[0]].tree if commit.parents else {}
            merged = merge_trees(parent, current, commit.tree)
            out.append(merged)
            current = merged
        return out
