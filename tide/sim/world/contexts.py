"""How GitHub combines a commit's statuses (latest per context) and check runs (latest per
name) into the combined status, the rollup and branch protection's verdict."""

from __future__ import annotations

from tide.sim.world.entities import CheckRunRecord, SimRepo, StatusRecord

STATUS_STATES = ("pending", "success", "failure", "error")
GREEN_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
CHECK_CONCLUSIONS = frozenset(
    {
        "action_required",
        "cancelled",
        "failure",
        "neutral",
        "skipped",
        "stale",
        "startup_failure",
        "success",
        "timed_out",
    }
)


def latest_statuses(repo: SimRepo, sha: str) -> list[StatusRecord]:
    """One status per context, the newest, in the order contexts first appeared."""
    latest: dict[str, StatusRecord] = {}
    for record in repo.statuses.get(sha, ()):
        latest[record.context] = record
    return list(latest.values())


def latest_check_runs(repo: SimRepo, sha: str) -> list[CheckRunRecord]:
    latest: dict[str, CheckRunRecord] = {}
    for run in repo.check_runs.get(sha, ()):
        latest[run.name] = run
    return list(latest.values())


def check_run_state(run: CheckRunRecord) -> str:
    """A check run as a status state: pending until completed, then green or failure."""
    if run.status != "completed":
        return "pending"
    return "success" if run.conclusion in GREEN_CONCLUSIONS else "failure"


def combine(states: list[str]) -> str:
    """GitHub's combined state for REST: failure beats pending beats success; none is pending."""
    if any(s in ("failure", "error") for s in states):
        return "failure"
    if not states or any(s == "pending" for s in states):
        return "pending"
    return "success"


def combine_graphql(states: list[str]) -> str:
    """The StatusState enum value for a set of states (GraphQL keeps ERROR apart)."""
    if "failure" in states:
        return "FAILURE"
    if "error" in states:
        return "ERROR"
    if not states or "pending" in states:
        return "PENDING"
    return "SUCCESS"


def context_states(repo: SimRepo, sha: str) -> dict[str, str]:
    """Every context and check run on a commit by name; a green one wins a name clash."""
    out: dict[str, str] = {}
    for run in latest_check_runs(repo, sha):
        out[run.name] = check_run_state(run)
    for status in latest_statuses(repo, sha):
        if out.get(status.context) != "success":
            out[status.context] = status.state
    return out


def required_problem(repo: SimRepo, sha: str, required: tuple[str, ...]) -> str | None:
    """GitHub's message for the first required context that is not green, or None."""
    states = context_states(repo, sha)
    for name in required:
        state = states.get(name)
        if state is None:
            return f'Required status check "{name}" is expected.'
        if state == "pending":
            return f'Required status check "{name}" is in progress.'
        if state != "success":
            return f'Required status check "{name}" is failing.'
    return None
