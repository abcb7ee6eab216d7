"""The facts one PR is judged on, gathered in one place: its repository's merge settings,
the contexts its branch's protection requires, the blocker issues and GitHub's refusal of it.

The sync reads these facts for its pools and records them in its report. The status pass and
the API judge every other PR with the same facts: the last sync's where it read them, else
read here through the PR's own org's client (with a GitHub App each installation sees only
its own org), and kept until a sync reads them afresh. One `criteria.evaluate` then judges.
"""

from __future__ import annotations

from tide.bounded import Lru
from tide.config import Config
from tide.criteria import Verdict, evaluate
from tide.github.client import GitHub
from tide.github.org_clients import Clients
from tide.model import PullRequest, RepoSettings, pool_key
from tide.report import SyncReport
from tide.setaside import recorded_refusal

FACTS_CACHE = 4096  # repositories' settings, and branches' protections, read outside a sync


class Judge:
    """Judges one PR at a time; shared by the status pass and the API, so both say the same."""

    def __init__(self, clients: Clients | GitHub) -> None:
        self.clients = clients if isinstance(clients, Clients) else Clients.of(clients)
        self._settings: Lru[str, RepoSettings] = Lru(FACTS_CACHE)  # by `org/repo`
        self._protection: Lru[str, tuple[str, ...]] = Lru(FACTS_CACHE)  # by pool key

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
        return evaluate(pr, policy, settings, protection, blockers, refused=refused)

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
            gh = await self.clients.for_org(org)
            known = tuple(await gh.rest.branch_protection_contexts(org, repo, branch) or ())
            self._protection[key] = known
        return known
