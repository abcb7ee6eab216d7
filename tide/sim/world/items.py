"""The pull-request and issue half of `World`'s API: open, push, label, review, comment,
close and merge, the way users and bots act on GitHub."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from tide.sim.world import mergeability
from tide.sim.world.entities import (
    SimComment,
    SimIssue,
    SimLabel,
    SimMilestone,
    SimPR,
    SimRepo,
    SimUser,
)
from tide.sim.world.git import Commit

DEFAULT_LOGIN = "tide-bot"


class ItemActions:
    """Mixed into `World`; everything here goes through the world's clock and branches."""

    if TYPE_CHECKING:

        def now(self) -> datetime: ...
        def mergeable_known_at(self) -> datetime: ...
        def new_id(self) -> int: ...
        def repo(self, full_name: str | SimRepo) -> SimRepo: ...
        def user(self, login: str, *, is_bot: bool = False) -> SimUser: ...
        def commit(
            self,
            repo: str | SimRepo,
            parents: Iterable[str],
            files: Mapping[str, str] | None = None,
            *,
            deleted: Iterable[str] = (),
            message: str = "Change",
            author: str = "alice",
        ) -> Commit: ...
        def push_branch(
            self,
            repo: str | SimRepo,
            branch: str,
            files: Mapping[str, str] | None = None,
            *,
            deleted: Iterable[str] = (),
            message: str = "Change",
            author: str = "alice",
            from_sha: str | None = None,
        ) -> Commit: ...
        def move_branch(
            self, repo: SimRepo, branch: str, sha: str | None, *, actor: str
        ) -> None: ...
        def _touch(self, item: SimIssue) -> None: ...

    def open_pr(
        self,
        repo: str | SimRepo,
        files: Mapping[str, str] | None = None,
        *,
        deleted: Iterable[str] = (),
        title: str | None = None,
        body: str = "",
        author: str = "alice",
        author_is_bot: bool = False,
        labels: Iterable[str] = (),
        base: str | None = None,
        draft: bool = False,
        from_sha: str | None = None,
        head_ref: str | None = None,
        milestone: str | None = None,
        review: str | None = None,
    ) -> SimPR:
        """A PR whose head branch holds one commit on top of the base head (or `from_sha`)."""
        r = self.repo(repo)
        base = base or r.default_branch
        if base not in r.git.branches:
            raise KeyError(f"{r.full_name} has no branch {base}")
        number = r.next_number
        r.next_number += 1
        title = title or f"Change {number}"
        head_ref = head_ref or f"change-{number}"
        user = self.user(author, is_bot=author_is_bot)
        parent = from_sha or r.git.branches[base]
        commit = self.commit(r, [parent], files, deleted=deleted, message=title, author=author)
        now = self.now()
        pr = SimPR(
            repo=r,
            number=number,
            id=self.new_id(),
            title=title,
            body=body,
            author=user.login,
            created_at=now,
            updated_at=now,
            head_ref=head_ref,
            head_sha=commit.sha,
            base_ref=base,
            draft=draft,
            review_decision=review,
            mergeable_after=self.mergeable_known_at(),
        )
        for name in labels:
            pr.labels.append(self._label(r, name).name)
        if milestone:
            pr.milestone = self._milestone(r, milestone).title
        r.pulls[number] = pr
        r.track(pr)
        self.move_branch(r, head_ref, commit.sha, actor=author)
        return pr

    def pr(self, repo: str | SimRepo, number: int) -> SimPR:
        return self.repo(repo).pulls[number]

    def push(
        self,
        pr: SimPR,
        files: Mapping[str, str] | None = None,
        *,
        deleted: Iterable[str] = (),
        message: str | None = None,
    ) -> Commit:
        """A new commit on the PR's head branch, on top of its current head."""
        return self.push_branch(
            pr.repo,
            pr.head_ref,
            files,
            deleted=deleted,
            message=message or f"Update {pr.title}",
            author=pr.author,
            from_sha=pr.head_sha,
        )

    def open_issue(
        self,
        repo: str | SimRepo,
        title: str,
        *,
        body: str = "",
        labels: Iterable[str] = (),
        author: str = "alice",
        milestone: str | None = None,
    ) -> SimIssue:
        r = self.repo(repo)
        number = r.next_number
        r.next_number += 1
        now = self.now()
        issue = SimIssue(
            repo=r,
            number=number,
            id=self.new_id(),
            title=title,
            body=body,
            author=self.user(author).login,
            created_at=now,
            updated_at=now,
        )
        issue.labels.extend(self._label(r, name).name for name in labels)
        if milestone:
            issue.milestone = self._milestone(r, milestone).title
        r.issues[number] = issue
        return issue

    def close_issue(self, issue: SimIssue) -> None:
        if isinstance(issue, SimPR):
            self.close_pr(issue)
            return
        issue.state = "CLOSED"
        issue.closed_at = self.now()
        self._touch(issue)

    def close_pr(self, pr: SimPR) -> None:
        if pr.is_open:
            self._close(pr)

    def add_label(self, item: SimIssue, name: str) -> None:
        label = self._label(item.repo, name)
        if label.name not in item.labels:
            item.labels.append(label.name)
            self._touch(item)

    def remove_label(self, item: SimIssue, name: str) -> bool:
        for existing in item.labels:
            if existing.lower() == name.lower():
                item.labels.remove(existing)
                self._touch(item)
                return True
        return False

    def set_review(self, pr: SimPR, decision: str | None) -> None:
        if decision not in (None, "APPROVED", "CHANGES_REQUESTED", "REVIEW_REQUIRED"):
            raise ValueError(f"unknown review decision {decision!r}")
        pr.review_decision = decision
        self._touch(pr)

    def comment(
        self, item: SimIssue, body: str, *, author: str = "alice", association: str = "MEMBER"
    ) -> SimComment:
        note = SimComment(
            id=self.new_id(),
            author=self.user(author).login,
            body=body,
            created_at=self.now(),
            association=association,
        )
        item.comments.append(note)
        self._touch(item)
        return note

    def pr_commits(self, pr: SimPR) -> list[Commit]:
        return mergeability.pr_commits(pr)

    def _close(self, pr: SimPR) -> None:
        pr.frozen_commits = tuple(c.sha for c in mergeability.pr_commits(pr))
        pr.repo.untrack(pr)
        pr.state = "CLOSED"
        pr.closed_at = self.now()
        self._touch(pr)

    def _label(self, repo: SimRepo, name: str) -> SimLabel:
        for label in repo.labels.values():
            if label.name.lower() == name.lower():
                return label
        label = SimLabel(name=name, id=self.new_id())
        repo.labels[name] = label
        return label

    def _milestone(self, repo: SimRepo, title: str) -> SimMilestone:
        if title not in repo.milestones:
            repo.milestones[title] = SimMilestone(
                title=title, number=len(repo.milestones) + 1, id=self.new_id()
            )
        return repo.milestones[title]
