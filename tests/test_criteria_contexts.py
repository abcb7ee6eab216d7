"""Which head contexts keep a PR out: `isPassingTests`, as in Prow's `TestIsPassing`."""

from __future__ import annotations

import pytest
from builders import ALL_METHODS, branch_policy, check_run, context, context_policy, pull_request

from tide.criteria import Code, evaluate, unsuccessful_contexts
from tide.model import Context, State
from tide.policy import ContextPolicy

S, F = State.SUCCESS, State.FAILURE


def contexts_of(**states: State) -> list[Context]:
    return [context(name, state) for name, state in states.items()]


@pytest.mark.parametrize(
    ("policy", "contexts", "failed"),
    [
        pytest.param(
            context_policy(),
            contexts_of(c1=S, c2=S, tide=F),
            [],
            id="81-empty-policy-trusts-combined-status-and-ignores-tide",
        ),
        pytest.param(
            context_policy(),
            contexts_of(c1=S, c2=S, c3=F, tide=F),
            ["c3"],
            id="82-empty-policy-any-failure-counts",
        ),
        pytest.param(
            context_policy(required=["c1", "c2", "c3"]),
            contexts_of(c1=S, c2=S, c3=S, tide=F),
            [],
            id="83-all-required-succeed",
        ),
        pytest.param(
            context_policy(required=["c1", "c2", "c3"]),
            contexts_of(c1=S, c2=S, tide=F),
            ["c3"],
            id="84-missing-required-context",
        ),
        pytest.param(
            context_policy(required=["c1", "c2", "c3"], optional=["c4"]),
            contexts_of(c1=S, c2=F),
            ["c2", "c3"],
            id="85-failed-and-missing-required",
        ),
        pytest.param(
            context_policy(required=["c1", "c2", "c3"], optional=["c4"]),
            contexts_of(c1=S, c2=S, c3=S, c4=F),
            [],
            id="86-optional-failure-ignored",
        ),
        pytest.param(
            context_policy(required=["c1", "c2", "c3"], skip_unknown=True),
            contexts_of(c1=S, c2=S, tide=F),
            ["c3"],
            id="87-skip-unknown-still-needs-required",
        ),
        pytest.param(
            context_policy(required=["c1", "c2"], optional=["c4"], skip_unknown=True),
            contexts_of(c1=S, c2=F),
            ["c2"],
            id="88-skip-unknown-required-failure",
        ),
        pytest.param(
            context_policy(required=["c1", "c3"], optional=["c4"], skip_unknown=True),
            contexts_of(c1=S, c2=S, c3=S, c4=F),
            [],
            id="89-skip-unknown-optional-failure-ignored",
        ),
        pytest.param(
            context_policy(required=["c1", "c3"], optional=["c4"], skip_unknown=True),
            contexts_of(c1=S, c2=S, c3=S, c4=F, c5=F),
            [],
            id="90-skip-unknown-ignores-unknown-failure",
        ),
    ],
)
def test_unsuccessful_contexts_follow_tide_policy(
    policy: ContextPolicy, contexts: list[Context], failed: list[str]
) -> None:
    assert [c.name for c in unsuccessful_contexts(contexts, policy, "tide")] == failed


def test_missing_required_context_is_reported_as_expected() -> None:
    failing = unsuccessful_contexts([], context_policy(required=["ci/e2e"]), "tide")

    assert failing == [Context("ci/e2e", State.EXPECTED)]


def test_renamed_status_context_is_the_one_ignored() -> None:
    contexts = contexts_of(merge_queue=F, tide=F)

    failing = unsuccessful_contexts(contexts, context_policy(), "merge_queue")

    assert [c.name for c in failing] == ["tide"]


def test_optional_regex_context_failure_is_ignored() -> None:
    policy = context_policy(optional_regex=["^lint/"])

    failing = unsuccessful_contexts(contexts_of(**{"lint/go": F, "ci": S}), policy, "tide")

    assert failing == []


def test_pending_context_keeps_pr_out_with_its_name() -> None:
    pr = pull_request(contexts=[context("ci/test", State.PENDING)])

    verdict = evaluate(pr, branch_policy(), ALL_METHODS)

    assert not verdict.eligible
    assert verdict.failing_contexts == ("ci/test",)
    assert [r.code for r in verdict.reasons] == [Code.CONTEXTS]


def test_failing_check_run_keeps_pr_out() -> None:
    pr = pull_request(contexts=[check_run("build", State.FAILURE), context("ci", S)])

    verdict = evaluate(pr, branch_policy(), ALL_METHODS)

    assert not verdict.eligible
    assert verdict.failing_contexts == ("build",)


def test_head_with_unknown_contexts_is_never_eligible() -> None:
    pr = pull_request(contexts=None)

    verdict = evaluate(pr, branch_policy(), ALL_METHODS)

    assert not verdict.eligible
    assert [r.code for r in verdict.blocking] == [Code.HEAD_UNKNOWN]


def test_head_with_unknown_contexts_stays_out_even_without_required_contexts() -> None:
    # Nothing is required, so only the unknown head stands between this PR and the pool.
    pr = pull_request(contexts=None)

    verdict = evaluate(pr, branch_policy(contexts=context_policy(skip_unknown=True)), ALL_METHODS)

    assert not verdict.eligible
    assert verdict.closest is not None and verdict.closest.weight == 0


def test_required_contexts_from_branch_protection_count_when_asked_for() -> None:
    pr = pull_request(contexts=[context("ci", S)])
    policy = branch_policy(contexts=context_policy(from_branch_protection=True))

    verdict = evaluate(pr, policy, ALL_METHODS, protection=["ci", "security/scan"])

    assert not verdict.eligible
    assert verdict.failing_contexts == ("security/scan",)


def test_branch_protection_contexts_ignored_unless_asked_for() -> None:
    pr = pull_request(contexts=[context("ci", S)])

    verdict = evaluate(pr, branch_policy(), ALL_METHODS, protection=["security/scan"])

    assert verdict.eligible
