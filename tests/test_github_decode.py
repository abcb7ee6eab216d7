"""GitHub JSON to model values, with Tide's rules (Prow's `TestHeadContexts`)."""

from __future__ import annotations

from datetime import UTC, datetime

from tide.github import decode
from tide.model import Mergeable, State

HEAD = "a" * 40


def check_run(name: str, status: str = "COMPLETED", conclusion: str | None = "SUCCESS") -> dict:
    return {"__typename": "CheckRun", "name": name, "status": status, "conclusion": conclusion}


def commit(oid: str, statuses: list[dict] | None = None, runs: list[dict] | None = None) -> dict:
    return {
        "commit": {
            "oid": oid,
            "status": {"contexts": statuses or []} if statuses is not None else None,
            "statusCheckRollup": {"contexts": {"nodes": runs or []}} if runs is not None else None,
        }
    }


def pr_node(**overrides: object) -> dict:
    node = {
        "__typename": "PullRequest",
        "number": 7,
        "title": "Fix the frobnicator",
        "body": "It was broken.",
        "url": "https://github.com/org/repo/pull/7",
        "updatedAt": "2026-01-05T09:00:00Z",
        "author": {"__typename": "User", "login": "alice"},
        "baseRef": {"name": "main", "prefix": "refs/heads/"},
        "headRefName": "fix",
        "headRefOid": HEAD,
        "mergeable": "MERGEABLE",
        "mergeStateStatus": "CLEAN",
        "canBeRebased": True,
        "isDraft": False,
        "reviewDecision": "APPROVED",
        "repository": {"name": "repo", "owner": {"login": "org"}},
        "labels": {"nodes": [{"name": "lgtm"}, {"name": "approved"}]},
        "milestone": {"title": "v1"},
        "comments": {
            "nodes": [
                {"body": "/lgtm", "createdAt": "2026-01-05T08:00:00Z", "author": {"login": "bob"}}
            ]
        },
        "commits": {"nodes": [commit(HEAD, [], [])]},
    }
    node.update(overrides)
    return node


def states(contexts) -> dict[str, State]:
    return {c.name: c.state for c in contexts}


# -- pull requests ---------------------------------------------------------------------------


def test_pull_request_node_becomes_a_model_pull_request():
    pr = decode.pull_request(pr_node())

    assert pr is not None
    assert (pr.org, pr.repo, pr.number, pr.key) == ("org", "repo", 7, "org/repo#7")
    assert (pr.title, pr.body, pr.url) == (
        "Fix the frobnicator",
        "It was broken.",
        pr_node()["url"],
    )
    assert (pr.author, pr.author_is_bot) == ("alice", False)
    assert (pr.base_ref, pr.base_ref_prefix, pr.head_ref, pr.head_sha) == (
        "main",
        "refs/heads/",
        "fix",
        HEAD,
    )
    assert pr.mergeable is Mergeable.MERGEABLE
    assert (pr.merge_state_status, pr.review_decision, pr.is_draft) == ("CLEAN", "APPROVED", False)
    assert pr.labels == {"lgtm", "approved"}
    assert pr.milestone == "v1"
    assert pr.updated_at == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert [(c.author, c.body) for c in pr.comments] == [("bob", "/lgtm")]
    assert pr.head_contexts == ()


def test_bot_author_is_marked_and_missing_author_is_empty():
    bot = decode.pull_request(pr_node(author={"__typename": "Bot", "login": "dependabot"}))
    ghost = decode.pull_request(pr_node(author=None, milestone=None, reviewDecision=None))

    assert bot is not None and bot.author_is_bot and bot.author == "dependabot"
    assert ghost is not None and ghost.author == "" and not ghost.author_is_bot
    assert ghost.milestone is None and ghost.review_decision is None


def test_unknown_mergeable_stays_unknown():
    pr = decode.pull_request(pr_node(mergeable="UNKNOWN", mergeStateStatus="UNKNOWN"))

    assert pr is not None and pr.mergeable is Mergeable.UNKNOWN


def test_search_nodes_that_are_not_pull_requests_are_skipped():
    assert decode.pull_request({"__typename": "Issue", "number": 1}) is None
    assert decode.pull_request(None) is None


# -- head contexts (242) -----------------------------------------------------------------------


def test_head_commit_first_among_nodes_gives_its_contexts():
    nodes = [
        commit(HEAD, [{"context": "ci/test", "state": "SUCCESS"}]),
        commit("b" * 40, [{"context": "ci/test", "state": "FAILURE"}]),
    ]

    assert states(decode.head_contexts(nodes, HEAD)) == {"ci/test": State.SUCCESS}


def test_head_commit_last_among_nodes_gives_its_contexts():
    nodes = [
        commit("b" * 40, [{"context": "ci/test", "state": "FAILURE"}]),
        commit("c" * 40, []),
        commit(HEAD, [{"context": "ci/test", "state": "PENDING"}], [check_run("lint")]),
    ]

    assert states(decode.head_contexts(nodes, HEAD)) == {
        "ci/test": State.PENDING,
        "lint": State.SUCCESS,
    }


def test_head_commit_not_among_nodes_leaves_contexts_unknown():
    pr = decode.pull_request(pr_node(commits={"nodes": [commit("b" * 40, [])]}))

    assert pr is not None and pr.head_contexts is None


def test_rest_fallback_upper_cases_states_and_reads_check_runs_by_tides_rules():
    statuses = decode.rest_status_contexts(
        {"statuses": [{"context": "ci/a", "state": "success", "target_url": "https://ci/a"}]}
    )
    runs = decode.rest_check_run_contexts(
        [
            {"name": "neutral", "status": "completed", "conclusion": "neutral"},
            {"name": "running", "status": "in_progress", "conclusion": None},
        ]
    )

    assert states(statuses) == {"ci/a": State.SUCCESS}
    assert statuses[0].target_url == "https://ci/a"
    assert states(runs) == {"neutral": State.SUCCESS, "running": State.PENDING}


def test_statuses_and_check_runs_of_the_same_name_are_both_kept():
    contexts = decode.commit_contexts(
        commit(HEAD, [{"context": "build", "state": "FAILURE"}], [check_run("build")])["commit"]
    )

    assert [(c.name, c.state, c.is_check_run) for c in contexts] == [
        ("build", State.FAILURE, False),
        ("build", State.SUCCESS, True),
    ]


def test_rollup_status_context_nodes_are_not_counted_twice():
    contexts = decode.commit_contexts(
        commit(
            HEAD,
            [{"context": "ci", "state": "SUCCESS"}],
            [{"__typename": "StatusContext"}, check_run("lint")],
        )["commit"]
    )

    assert [c.name for c in contexts] == ["ci", "lint"]


# -- check runs (241) ------------------------------------------------------------------------


def run_states(*runs: dict) -> dict[str, State]:
    return states(decode.commit_contexts(commit(HEAD, [], list(runs))["commit"]))


def test_check_run_with_empty_name_is_ignored():
    assert run_states(check_run("")) == {}


def test_queued_check_run_is_pending():
    assert run_states(check_run("job", "QUEUED", None)) == {"job": State.PENDING}


def test_completed_neutral_skipped_and_success_are_success():
    assert run_states(
        check_run("neutral", conclusion="NEUTRAL"),
        check_run("skipped", conclusion="SKIPPED"),
        check_run("success", conclusion="SUCCESS"),
    ) == {"neutral": State.SUCCESS, "skipped": State.SUCCESS, "success": State.SUCCESS}


def test_completed_with_any_other_conclusion_is_failure():
    assert run_states(
        check_run("unclear", conclusion="unclear"),
        check_run("none", conclusion=None),
        check_run("timed-out", conclusion="TIMED_OUT"),
    ) == {"unclear": State.FAILURE, "none": State.FAILURE, "timed-out": State.FAILURE}


def test_duplicate_check_runs_keep_success_over_everything():
    assert run_states(
        check_run("job", conclusion="FAILURE"),
        check_run("job", conclusion="ERROR"),
        check_run("job", conclusion=None),
        check_run("job", conclusion="SUCCESS"),
    ) == {"job": State.SUCCESS}


def test_duplicate_check_runs_count_neutral_as_success():
    assert run_states(
        check_run("job", conclusion="FAILURE"), check_run("job", conclusion="NEUTRAL")
    ) == {"job": State.SUCCESS}


def test_duplicate_check_runs_keep_pending_over_failures():
    assert run_states(
        check_run("job", conclusion="FAILURE"),
        check_run("job", conclusion="ERROR"),
        check_run("job", conclusion=None),
        check_run("job", "IN_PROGRESS", None),
    ) == {"job": State.PENDING}


def test_duplicate_failing_check_runs_stay_failure():
    assert run_states(
        check_run("job", conclusion="FAILURE"), check_run("job", conclusion="CANCELLED")
    ) == {"job": State.FAILURE}


def test_best_per_name_ranks_error_above_expected():
    from tide.model import Context

    best = decode.best_per_name(
        [Context("c", State.EXPECTED), Context("c", State.ERROR), Context("d", State.EXPECTED)]
    )

    assert states(best) == {"c": State.ERROR, "d": State.EXPECTED}


# -- blockers (236) ----------------------------------------------------------------------------


def branches(title: str) -> tuple[str, ...]:
    return decode.parse_branches(title)[0]


def test_parse_branches_of_blocker_titles():
    assert branches("") == ()
    assert branches("BAD THINGS (all branches blocked)") == ()
    assert branches("branch:foo") == ("foo",)
    assert branches("branch: foo-bar") == ("foo-bar",)
    assert branches("BAD THINGS (BLOCKING BRANCH:foo branch:bar) AHHH") == ("foo", "bar")
    assert branches('branch:"FOO-bar"') == ("FOO-bar",)
    assert branches('branch: "foo" branch: "bar"') == ("foo", "bar")
    assert branches("branch:slash/in/name") == ("slash/in/name",)


def test_blocker_issue_becomes_a_blocker_with_the_branch_tokens_removed_from_its_title():
    blocker = decode.blocker(
        {
            "__typename": "Issue",
            "number": 9,
            "title": "Release freeze branch:release-1.11 until Friday",
            "url": "https://github.com/k/t-i/issues/9",
            "repository": {"name": "t-i", "owner": {"login": "k"}},
        }
    )

    assert blocker is not None
    assert (blocker.org, blocker.repo, blocker.number) == ("k", "t-i", 9)
    assert blocker.branches == ("release-1.11",)
    assert blocker.title == "Release freeze until Friday"
    assert blocker.applies_to("k", "t-i", "release-1.11")
    assert not blocker.applies_to("k", "t-i", "main")


# -- repository state --------------------------------------------------------------------------


def test_staging_refs_are_named_by_branch_and_carry_message_and_contexts():
    refs = decode.staging_refs(
        "tide/",
        {
            "nodes": [
                {
                    "name": "main/1",
                    "target": {
                        "__typename": "Commit",
                        "oid": HEAD,
                        "message": "tide: base abc\n\n#1 def",
                        "committedDate": "2026-01-05T10:00:00Z",
                        "status": {"contexts": [{"context": "ci", "state": "PENDING"}]},
                        "statusCheckRollup": None,
                    },
                },
                {"name": "a-tag", "target": {"__typename": "Tag", "oid": "t" * 40}},
            ]
        },
    )

    assert len(refs) == 1
    ref = refs[0]
    assert (ref.name, ref.commit_sha, ref.message) == (
        "tide/main/1",
        HEAD,
        "tide: base abc\n\n#1 def",
    )
    assert ref.committed_at == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert states(ref.contexts) == {"ci": State.PENDING}


def test_repository_settings_follow_the_allowed_merge_methods():
    settings = decode.repository_settings(
        {"mergeCommitAllowed": False, "squashMergeAllowed": True, "rebaseMergeAllowed": False}
    )

    assert (settings.allow_merge, settings.allow_squash, settings.allow_rebase) == (
        False,
        True,
        False,
    )


def test_rest_mergeable_null_is_unknown_not_conflicting():
    assert decode.rest_mergeable(None) is Mergeable.UNKNOWN
    assert decode.rest_mergeable(False) is Mergeable.CONFLICTING
    assert decode.rest_mergeable(True) is Mergeable.MERGEABLE
