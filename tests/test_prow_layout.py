"""Real public Prow configs (tests/fixtures/prow, sources in its README) load unchanged.

Expected figures are worked out by hand from Prow's rules (deduplicateTideQueries sorts labels,
missing labels and branches, concatenates targets and orders queries by their JSON form;
BranchRequirements derives contexts from presubmits), not taken from this code's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tide.cli import main
from tide.config import ConfigError
from tide.config.layout import ConfigFiles
from tide.github.search_query import query_string
from tide.scoped_search import per_org

FIXTURES = Path(__file__).parent / "fixtures/prow"
K8S = FIXTURES / "kubernetes-test-infra/config"
OPENSHIFT = FIXTURES / "openshift-release/core-services/prow/02_config"
TI = FIXTURES / "ti-community-infra-configs/prow/config/config.yaml"

A8 = (
    '-label:"do-not-merge" -label:"do-not-merge/blocked-paths" '
    '-label:"do-not-merge/contains-merge-commits" -label:"do-not-merge/hold" '
    '-label:"do-not-merge/invalid-commit-message" -label:"do-not-merge/invalid-owners-file"'
)
TAIL = '-label:"do-not-merge/release-note-label-needed" -label:"do-not-merge/work-in-progress"'


@pytest.fixture(scope="module")
def k8s() -> object:
    return ConfigFiles(prow_config=K8S / "prow/config.yaml", job_config=K8S / "jobs").load()


def test_check_config_accepts_each_real_layout_unchanged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    flags = [
        ["--config-path", str(K8S / "prow/config.yaml"), "--job-config-path", str(K8S / "jobs")],
        [
            "--config-path",
            str(OPENSHIFT / "_config.yaml"),
            "--supplemental-prow-config-dir",
            str(OPENSHIFT),
        ],
        ["--config-path", str(TI)],
    ]
    for args in flags:
        assert main(["check-config", *args]) == 0
    out = capsys.readouterr().out
    assert out.count("not used by tide: ") == 3
    assert "gerrit" in out and "github.link_url" in out and "plank" in out


def test_kubernetes_queries_are_deduplicated_and_ordered_as_prow(k8s: object) -> None:
    queries = k8s.queries  # type: ignore[attr-defined]
    # 9 queries; cluster-api's and autoscaler's ask the same once their missingLabels are sorted.
    assert len(queries) == 8
    assert [(q.author, q.orgs, q.repos) for q in queries] == [
        ("k8s-ci-robot", (), ("kubernetes/test-infra",)),
        ("k8s-infra-ci-robot", (), ("kubernetes/k8s.io", "kubernetes/test-infra")),
        ("", (), ("kubernetes-sigs/cloud-provider-azure",)),  # cherry-pick... < contains...
        ("", (), ("kubernetes/kubernetes",)),  # "excludedBranches" < "includedBranches"
        ("", (), ("kubernetes/kubernetes",)),
        ("", (), ("kubernetes-sigs/cluster-api", "kubernetes/autoscaler")),  # needs-area < release
        ("", ("kubernetes", "kubernetes-client", "kubernetes-csi", "kubernetes-sigs"), ()),
        ("", (), ("kubernetes-sigs/provider-aws-test-infra",)),  # "cncf-cla: yes" < ...
    ]
    assert query_string(queries[7]) == (
        'is:pr state:open archived:false label:"cncf-cla: yes" label:"skip-review" '
        f'{A8} {TAIL} repo:"kubernetes-sigs/provider-aws-test-infra"'
    )
    assert query_string(queries[5]) == (
        'is:pr state:open archived:false label:"approved" label:"cncf-cla: yes" label:"lgtm" '
        f'{A8} -label:"do-not-merge/needs-area" {TAIL} '
        'repo:"kubernetes/autoscaler" repo:"kubernetes-sigs/cluster-api"'
    )
    assert query_string(queries[4]).startswith(
        'is:pr state:open archived:false base:"master" base:"release-1.37" label:"approved" '
    )
    assert query_string(queries[4]).endswith(' milestone:"v1.37" repo:"kubernetes/kubernetes"')
    org_queries = {org: query_string(scoped) for org, scoped in per_org(queries[6])}
    assert sorted(org_queries) == [
        "kubernetes",
        "kubernetes-client",
        "kubernetes-csi",
        "kubernetes-sigs",
    ]
    assert org_queries["kubernetes-client"] == (
        'is:pr state:open archived:false label:"approved" label:"cncf-cla: yes" label:"lgtm" '
        f'{A8} {TAIL} org:"kubernetes-client"'
    )


def test_presubmits_give_prows_required_contexts_per_branch(k8s: object) -> None:
    policy = k8s.branch_policy("kubernetes", "kops", "master").context_policy  # type: ignore[attr-defined]
    assert policy.required == (
        "pull-kops-build",
        "pull-kops-test",
        "pull-kops-verify-boilerplate",
        "pull-kops-verify-generated",
        "pull-kops-verify-gofmt",
        "pull-kops-verify-golangci-lint",
        "pull-kops-verify-gomod",
        "pull-kops-verify-govet",
    )
    # always_run: false jobs and run_if_changed jobs may never report: required if present.
    assert policy.required_if_present == (
        "pull-kops-e2e-baremetal",
        "pull-kops-e2e-baremetal-ipv6",
        "pull-kops-e2e-kubernetes-azure",
        "pull-kops-e2e-kubernetes-do-dns-none",
        "pull-kops-e2e-kubernetes-do-fqdn",
        "pull-kops-verify-hashes",
        "pull-kops-verify-terraform",
    )
    assert policy.optional == ("pull-kops-kubernetes-e2e-ubuntu-gce-build",)
    release = k8s.branch_policy("kubernetes", "kops", "release-1.30").context_policy  # type: ignore[attr-defined]
    assert release.required == (
        "pull-kops-build",
        "pull-kops-test",
        "pull-kops-verify-boilerplate",
        "pull-kops-verify-generated",
        "pull-kops-verify-govet",
    )
    assert release.required_if_present == ("pull-kops-verify-hashes", "pull-kops-verify-terraform")


def test_branch_regexes_match_unanchored_as_prows(k8s: object) -> None:
    # pull-community-verify: branches [main]; the tempelis check: branches [^main$].
    main_policy = k8s.branch_policy("kubernetes", "community", "main").context_policy  # type: ignore[attr-defined]
    assert main_policy.required == ("pull-community-verify",)
    assert main_policy.required_if_present == ("pull-community-tempelis-check",)
    other = k8s.branch_policy("kubernetes", "community", "main-2").context_policy  # type: ignore[attr-defined]
    assert (other.required, other.required_if_present) == (("pull-community-verify",), ())


def test_openshift_supplemental_queries_are_appended_and_sorted_as_prow() -> None:
    files = ConfigFiles(prow_config=OPENSHIFT / "_config.yaml", supplemental_dirs=(OPENSHIFT,))
    config = files.load()
    assert len(files.supplemental_files()) == 2
    queries = config.queries
    assert len(queries) == 10  # five from origin, five from installer, none alike
    # "acknowledge-critical-fixes-only" < "approved"; installer's list goes on ("verified")
    # where origin's ends, and ',' sorts before ']'.
    assert [q.repos for q in queries[:2]] == [("openshift/installer",), ("openshift/origin",)]
    assert query_string(queries[1]) == (
        'is:pr state:open archived:false base:"main" base:"master" '
        'label:"acknowledge-critical-fixes-only" label:"approved" label:"jira/valid-reference" '
        'label:"lgtm" -label:"backports/unvalidated-commits" -label:"do-not-merge/hold" '
        '-label:"do-not-merge/invalid-owners-file" -label:"do-not-merge/work-in-progress" '
        '-label:"jira/invalid-bug" -label:"keep-main-query-separate" -label:"needs-rebase" '
        'repo:"openshift/origin"'
    )
    assert config.sync_period == 165.0
    assert "github.link_url" in config.prow_sections_not_used
    assert config.branch_policy("cri-o", "cri-o", "main").batch_size_limit == -1


def test_ti_community_config_resolves_its_templates() -> None:
    config = ConfigFiles(prow_config=TI).load()
    template = config.branch_policy("tikv", "tikv", "master").commit_template
    assert template is not None and template.title == "{{ .Title }} (#{{ .Number }})"
    assert ".global_definations (unknown to Prow too)" in config.prow_sections_not_used


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


PROW = """\
plank: {}
tide:
  merge_method:
    org/a: squash
  queries:
  - repos: [org/a]
    labels: [lgtm]
branch-protection:
  orgs:
    org:
      protect: true
"""


def test_supplemental_files_merge_by_prows_rules_with_each_problem_at_its_line(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "prow.yaml": PROW,
            "d/x/_prowconfig.yaml": "tide:\n  queries:\n  - repos: [org/b]\n    labels: [ok]\n",
            "d/y/_prowconfig.yaml": (
                "tide:\n  merge_method:\n    org/a: rebase\n  sync_period: 1m\n"
                "branch-protection:\n  orgs:\n    org:\n      protect: false\n"
                "deck: {}\n"
            ),
            "d/z/_prowconfig.yaml": "tide:\n  queries:\n  - repos: [org/c]\n    labels: [x, x]\n",
            "d/z/ignored.yaml": "not: read\n",
        },
    )
    files = ConfigFiles(prow_config=tmp_path / "prow.yaml", supplemental_dirs=(tmp_path / "d",))
    with pytest.raises(ConfigError) as caught:
        files.load()
    y, z = str(tmp_path / "d/y/_prowconfig.yaml"), str(tmp_path / "d/z/_prowconfig.yaml")
    found = {(p.source, p.line, p.path): p.message for p in caught.value.problems}
    assert found[(y, 3, 'tide.merge_method["org/a"]')] == (
        "config for org or repo org/a passed more than once"
    )
    assert found[(y, 4, "tide.sync_period")].startswith("only 'branch-protection',")
    assert found[(y, 9, "deck")].startswith("only 'branch-protection',")
    assert found[(y, 7, "branch-protection.orgs.org")].startswith(
        "both branch-protection configs define a policy for org org"
    )
    # A query appended from a supplemental file is checked where it was written.
    assert found[(z, 4, "tide.queries[0].labels")] == 'has duplicate entries: "x"'
    assert len(found) == 5


def test_supplemental_queries_join_the_main_ones(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "prow.yaml": PROW,
            "d/_prowconfig.yaml": "tide:\n  queries:\n  - repos: [org/b]\n    labels: [lgtm]\n",
        },
    )
    files = ConfigFiles(prow_config=tmp_path / "prow.yaml", supplemental_dirs=(tmp_path / "d",))
    assert [q.repos for q in files.load().queries] == [("org/a", "org/b")]


def test_tide_settings_live_under_daemon_or_at_the_top_level(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "tide.yaml": "daemon:\n  server:\n    port: 9999\n  queue:\n    single_retries: 3\n",
            "both.yaml": "daemon:\n  queue: {single_retries: 3}\nqueue: {single_retries: 1}\n",
            "prow.yaml": PROW,
        },
    )
    config = ConfigFiles(config=tmp_path / "tide.yaml", prow_config=tmp_path / "prow.yaml").load()
    assert config.server.port == 9999
    assert config.branch_policy("org", "a", "main").queue.single_retries == 3
    assert [q.repos for q in config.queries] == [("org/a",)]
    with pytest.raises(ConfigError) as caught:
        ConfigFiles(config=tmp_path / "both.yaml").load()
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (3, "queue")
    assert problem.message.startswith("queue is already set in")


def test_one_tide_section_across_tides_file_and_prows(tmp_path: Path) -> None:
    _write(tmp_path, {"tide.yaml": "tide:\n  sync_period: 1m\n", "prow.yaml": PROW})
    files = ConfigFiles(config=tmp_path / "tide.yaml", prow_config=tmp_path / "prow.yaml")
    with pytest.raises(ConfigError) as caught:
        files.load()
    [problem] = caught.value.problems
    assert (problem.source, problem.line) == (str(tmp_path / "prow.yaml"), 2)
    assert problem.message.startswith(f"tide is already set in {tmp_path / 'tide.yaml'}")


def test_job_config_problems_name_file_and_line(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "prow.yaml": PROW,
            "jobs/a/one.yaml": (
                "presubmits:\n  org/a:\n  - name: unit\n    always_run: true\n"
                "    run_if_changed: '^src/'\n  - name: lint\n    branches: ['(']\n"
            ),
            "jobs/b/one.yaml": "periodics: []\n",
        },
    )
    files = ConfigFiles(prow_config=tmp_path / "prow.yaml", job_config=tmp_path / "jobs")
    with pytest.raises(ConfigError) as caught:
        files.load()
    found = {(Path(p.source).name, p.line, p.path) for p in caught.value.problems}
    assert found == {
        ("one.yaml", 5, 'presubmits["org/a"][0].run_if_changed'),
        ("one.yaml", 7, 'presubmits["org/a"][1].branches'),
        ("one.yaml", None, ""),  # the second one.yaml: Prow wants unique basenames
    }


async def test_tide_run_reads_prows_files_and_requires_the_presubmits_contexts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sim
) -> None:
    """The daemon against the simulator, configured only by Prow's files and tide's own."""
    from tide.service import run_service

    monkeypatch.setenv("TIDE_TEST_TOKEN", "sim-token")
    monkeypatch.chdir(tmp_path)
    world = sim.world
    world.create_repo("org/repo", files={"README.md": "x\n"})
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    jobs = "presubmits:\n  org/repo:\n  - name: unit\n    context: ci/unit\n    always_run: true\n"
    _write(
        tmp_path,
        {
            "tide.yaml": (
                f"daemon:\n  github:\n    graphql_url: {sim.graphql_url}\n"
                f"    api_url: {sim.api_url}\n    token_env: TIDE_TEST_TOKEN\n"
                "  server: {enabled: false}\n"
            ),
            "prow/config.yaml": (
                "plank: {job_url_prefix_config: {'*': https://prow.example.com/view/}}\n"
                "github: {link_url: https://github.com}\n"
                "tide:\n  sync_period: 1s\n  queries:\n  - repos: [org/repo]\n"
                "    labels: [lgtm]\n"
            ),
            "prow/jobs/org-repo.yaml": jobs,
        },
    )
    files = ConfigFiles(
        config=tmp_path / "tide.yaml",
        prow_config=tmp_path / "prow/config.yaml",
        job_config=tmp_path / "prow/jobs",
    )
    assert await run_service(files.load(), files, once=True) == 0
    assert pr.state == "OPEN"  # its presubmit's context never reported
    statuses = world.repo("org/repo").statuses[pr.head_sha]
    assert [s.description for s in statuses if s.context == "tide"] == [
        "Not mergeable. Job ci/unit has not succeeded."
    ]
    out = capsys.readouterr().out
    assert out.count("not used by tide: github.link_url, plank") == 1

    (tmp_path / "prow/jobs/org-repo.yaml").write_text(jobs + "    optional: true\n")
    world.set_status("org/repo", pr.head_sha, "ci/lint", "success")  # the CI that did report
    assert await run_service(files.load(), files, once=True) == 0
    assert pr.state == "MERGED"


def test_prows_sections_are_accepted_in_tides_file_and_typos_still_caught() -> None:
    from tide.config import parse_config

    config = parse_config("gerrit: {ratelimit: 5}\nplank: {}\ntide: {sync_period: 1m}\n")
    assert config.prow_sections_not_used == ("gerrit", "plank")
    with pytest.raises(ConfigError) as caught:
        parse_config("sinkr: {}\nbogus: 1\n")
    first, second = caught.value.problems
    assert first.message == 'unknown key; did you mean "sinker"?'
    assert "belongs under" not in second.message
    assert second.message.endswith("daemon or a section of Prow's")
