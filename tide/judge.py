"""The facts one PR is judged on, gathered in one place: its repository's merge settings,
the contexts its branch's protection requires, the blocker issues and GitHub's refusal of it.

The sync reads these facts for its pools here (repositories, blockers, protection) and
records them in its report; `Facts.verdict` judges each of its PRs. The status pass and the
API judge every other PR with the same facts: the last sync's where it read them, else read
here through the PR's own org's client (with a GitHub App each installation sees only its
own org), and kept until a sync reads them afresh.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from tide.bounded import Lru
from tide.config import Config
from tide.criteria import Verdict, evaluate
from tide.github.client import GitHub
from tide.github.errors import GitHubError
from tide.github.org_clients import Clients
from tide.github.records import RepositoryState, RepositoryUnreadable
from tide.github.repo_states import RepoKey, RepoReads, RepositoryStates
from tide.github.search_query import blocker_org_queries, blocker_query
from tide.model import Blocker, PullRequest, RepoSettings, pool_key
from tide.policy import BranchPolicy
from tide.report import SyncReport
from tide.setaside import recorded_refusal

FACTS_CACHE = 4096  # repositories' settings, and branches' protections, read outside a sync


@dataclass(frozen=True, slots=True)
class Facts:
    """What a PR on one branch is judged on, besides the PR and the policy."""

    settings: RepoSettings
    protection: tuple[str, ...] = ()  # required contexts, when the policy reads them
    blockers: tuple[Blocker, ...] = ()  # `evaluate` keeps those holding the PR's branch

    def verdict(self, pr: PullRequest, policy: BranchPolicy, refused: str | None = None) -> Verdict:
        """`refused`: GitHub's reason, while the PR is set aside after a refused merge."""
        return evaluate(pr, policy, self.settings, self.protection, self.blockers, refused=refused)


class Judge:
    """Reads the facts a PR is judged on through each org's own client, for the sync, and
    judges one PR at a time for the status pass and the API (one judge: all say the same)."""

    def __init__(self, clients: Clients | GitHub) -> None:
        self.clients = clients if isinstance(clients, Clients) else Clients.of(clients)
        self._settings: Lru[str, RepoSettings] = Lru(FACTS_CACHE)  # by `org/repo`
        self._protection: Lru[str, tuple[str, ...]] = Lru(FACTS_CACHE)  # by pool key
        self._states = RepositoryStates()  # keeps only repositories' node ids

    # -- one PR, outside a sync ------------------------------------------------------------

    async def verdict(self, config: Config, report: SyncReport | None, pr: PullRequest) -> Verdict:
        """`pr` judged as the sync would judge it. Before the first sync a refusal recorded
        on its head stands; after it, the sync's set-aside book says (a lifted one is gone)."""
        policy = config.branch_policy(pr.org, pr.repo, pr.base_ref)
        settings = await self.settings(config, report, pr.org, pr.repo)
        protection: tuple[str, ...] = ()
        if policy.context_policy.from_branch_protection:
            protection = await self.protection(report, pr.org, pr.repo, pr.base_ref)
        blockers = report.blockers if report is not None else ()
        if report is not None:
            refused = report.set_aside.get(pr.key)
        else:
            refused = recorded_refusal(pr, policy)
        return Facts(settings, protection, blockers).verdict(pr, policy, refused)

    async def settings(
        self, config: Config, report: SyncReport | None, org: str, repo: str
    ) -> RepoSettings:
        key = f"{org}/{repo}"
        if report is not None and key in report.repos:
            self._settings[key] = report.repos[key].settings
        known = self._settings.get(key)
        if known is None:
            gh = await self.clients.for_org(org)
            prefix = config.queue.options_for(org, repo).staging_prefix
            known = (await gh.repository_state(org, repo, prefix)).settings
            self._settings[key] = known
        return known

    async def protection(
        self, report: SyncReport | None, org: str, repo: str, branch: str
    ) -> tuple[str, ...]:
        """The status contexts the branch's protection requires (none when unprotected)."""
        key = pool_key(org, repo, branch)
        if report is not None and key in report.protection:
            self._protection[key] = report.protection[key]
        known = self._protection.get(key)
        if known is None:
            known = await self.read_protection(org, repo, branch)
        return known

    # -- the sync's reads ------------------------------------------------------------------

    async def read_repositories(self, config: Config, repos: Iterable[RepoKey]) -> RepoReads:
        """Every repository's state, 100 a request (`tide.github.repo_states`): its merge
        settings, kept here, with its staging branches and its default branch's head."""
        by_org: dict[str, dict[RepoKey, str]] = defaultdict(dict)
        for org, repo in sorted(set(repos)):
            by_org[org][(org, repo)] = config.queue.options_for(org, repo).staging_prefix
        out = RepoReads()
        for org, wanted in by_org.items():
            try:
                gh = await self.clients.for_org(org)
            except GitHubError as exc:
                for o, r in wanted:
                    why = f"cannot reach repository {o}/{r}: {exc}"
                    out.states[(o, r)] = RepositoryUnreadable(why)
                continue
            reads = await self._states.read(gh, wanted)
            out.states.update(reads.states)
            out.heads.update(reads.heads)
        for (org, repo), state in out.states.items():
            if isinstance(state, RepositoryState):
                self._settings[f"{org}/{repo}"] = state.settings
        return out

    async def read_protection(self, org: str, repo: str, branch: str) -> tuple[str, ...]:
        """Read now (a sync reads every pool's afresh); unprotected is no contexts."""
        gh = await self.clients.for_org(org)
        found = tuple(await gh.rest.branch_protection_contexts(org, repo, branch) or ())
        self._protection[pool_key(org, repo, branch)] = found
        return found

    async def read_blockers(
        self, config: Config, only: frozenset[str] | None, unsearchable: Collection[str]
    ) -> tuple[tuple[Blocker, ...], str]:
        """The open blocker issues of the config's scope (`only`: of those `org/repo`), or
        why they could not be read. `unsearchable`: names GitHub's search refuses, left out
        (one would make GitHub refuse the whole blocker search)."""
        orgs, repos = config.org_exceptions_and_repos()
        if only is not None:
            orgs, repos = {}, only
        orgs = {o: e for o, e in orgs.items() if o not in unsearchable}
        repos = frozenset(r for r in repos if r not in unsearchable)
        label = config.blocker_label
        if self.clients.sharded:
            queries = list(blocker_org_queries(label, orgs, repos).items())
        else:
            queries = [("", blocker_query(label, orgs, repos))]
        found: list[Blocker] = []
        for org, text in queries:
            try:
                result = await (await self.clients.for_org(org)).search.issues(text)
            except GitHubError as exc:
                return (), f"could not read blocker issues: {exc}"
            if result.error is not None:
                return (), f"could not read blocker issues: {result.error}"
            found += result.items
        return tuple(found), ""
