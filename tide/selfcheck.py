"""The start-up self-check: one readable block saying what tide is about to do, as whom,
with which permissions and budget. A repository it cannot reach is named and left to the
daemon as an errored pool; only when no configured repository is reachable does the check
stop the start (rejected credentials stop it earlier, in `connect`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tide.config import Config
from tide.github.errors import GitHubError
from tide.github.org_clients import Clients

# Merging needs push access; triage or read can only watch.
CAN_MERGE = {"ADMIN", "MAINTAIN", "WRITE"}


@dataclass
class SelfCheck:
    lines: list[str] = field(default_factory=list)
    fatal: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)  # org/repo -> why

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


async def self_check(
    config: Config, clients: Clients, identity: str, *, source: str, dry_run: bool
) -> SelfCheck:
    check = SelfCheck()
    orgs, repos = config.org_exceptions_and_repos()
    mode = "dry run: decides and logs, changes nothing" if dry_run else "live"
    check.lines += [
        "tide self-check",
        f"  config:      {source} ({len(config.queries)} queries, sync every "
        f"{config.sync_period:g}s, statuses every {config.status_update_period:g}s, {mode})",
        f"  GitHub:      {config.github.graphql_url} as {identity}",
    ]
    if config.presubmit_repos:
        check.lines.append(
            f"  presubmits:  required contexts from the job config for "
            f"{config.presubmit_repos} repositories"
        )
    if config.prow_sections_not_used:
        unused = ", ".join(config.prow_sections_not_used)
        check.lines.append(f"  not used by tide: {unused}")
    for org in sorted(orgs):
        excluded = sorted(orgs[org])
        suffix = f" except {', '.join(excluded)}" if excluded else ""
        check.lines.append(f"  org {org}:{' ' * max(1, 8 - len(org))}every repository{suffix}")
    for full in sorted(repos):
        owner, _, name = full.partition("/")
        prefix = config.queue.options_for(owner, name).staging_prefix
        try:
            gh = await clients.for_org(owner)
            state = await gh.repository_state(owner, name, prefix)
        except GitHubError as exc:
            check.unreachable[full] = f"cannot reach repository {full}: {exc}"
            check.warnings.append(check.unreachable[full])
            check.lines.append(f"  repo {full}: UNREACHABLE ({exc}); the others run")
            continue
        permission = state.viewer_permission or "unknown"
        note = ""
        if permission not in CAN_MERGE:
            note = "  <- cannot merge or push staging branches"
            check.warnings.append(f"{identity} has {permission} on {full}; tide needs WRITE")
        staging = len(state.staging_refs)
        check.lines.append(
            f"  repo {full}: permission {permission}, {staging} staging branch(es) found{note}"
        )
    if repos and not orgs and len(check.unreachable) == len(repos):
        check.fatal.append(
            "no configured repository is reachable: " + "; ".join(check.unreachable.values())
        )
    for budget in clients.budgets():
        if budget.remaining is None:
            continue
        reset = budget.reset_at.isoformat() if budget.reset_at else "unknown"
        check.lines.append(
            f"  budget:      {budget.remaining}/{budget.limit} GraphQL points, resets {reset}"
        )
    return check
