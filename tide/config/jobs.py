"""Prow's job config: the presubmits whose contexts Tide requires, as Prow derives them.

Only what Tide reads is validated (name, context, always_run, optional, skip_report,
run_if_changed, skip_if_only_changed, branches, skip_branches); the rest of a job (its pod spec,
decoration, ...) is Prow's business and passes through. `branch_requirements` is Prow's
`BranchRequirements`: per branch, which contexts are required, required if present, optional.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from tide.config.problems import Issue, reject
from tide.regex import compile_regex, regex_problem


class PresubmitSpec(BaseModel):
    """One presubmit job, with Prow's YAML names; other job keys are Prow's and pass through."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    name: str = Field(min_length=1)
    context: str = ""
    always_run: bool = False
    optional: bool = False
    skip_report: bool = False
    run_if_changed: str = ""
    skip_if_only_changed: str = ""
    branches: list[str] = Field(default_factory=list)
    skip_branches: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _prow_rules(self) -> PresubmitSpec:
        issues: list[Issue] = []
        for key in ("branches", "skip_branches"):
            values: list[str] = getattr(self, key)
            if values:
                problem = regex_problem("|".join(values))
                if problem:
                    issues.append(Issue((key,), f"could not compile the branch regex: {problem}"))
        for key in ("run_if_changed", "skip_if_only_changed"):
            pattern: str = getattr(self, key)
            problem = regex_problem(pattern) if pattern else None
            if problem:
                issues.append(Issue((key,), f"could not compile {key} regex: {problem}"))
        if self.run_if_changed and self.skip_if_only_changed:
            message = "run_if_changed and skip_if_only_changed are mutually exclusive"
            issues.append(Issue(("skip_if_only_changed",), message))
        if self.always_run and (self.run_if_changed or self.skip_if_only_changed):
            key = "run_if_changed" if self.run_if_changed else "skip_if_only_changed"
            message = f"job {self.name} is set to always run but also declares {key} targets"
            issues.append(Issue((key,), message))
        if issues:
            reject(issues)
        return self


class JobConfigSpec(BaseModel):
    """A job config file (`--job-config-path`): presubmits are read, the rest is Prow's."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    presubmits: dict[str, list[PresubmitSpec]] = Field(default_factory=dict)
    postsubmits: JsonValue = None
    periodics: JsonValue = None
    presets: JsonValue = None

    @model_validator(mode="after")
    def _unique_names(self) -> JobConfigSpec:
        issues = []
        for repo, jobs in self.presubmits.items():
            seen: set[str] = set()
            for index, job in enumerate(jobs):
                if job.name in seen:
                    message = f"duplicated presubmit job: {job.name}"
                    issues.append(Issue(("presubmits", repo, index, "name"), message))
                seen.add(job.name)
        if issues:
            reject(issues)
        return self


@dataclass(frozen=True, slots=True)
class Presubmit:
    """What Tide needs of one presubmit."""

    context: str
    always_run: bool = False
    optional: bool = False
    skip_report: bool = False
    conditional: bool = False  # run_if_changed or skip_if_only_changed
    branches: tuple[str, ...] = ()
    skip_branches: tuple[str, ...] = ()

    @classmethod
    def of(cls, spec: PresubmitSpec) -> Presubmit:
        return cls(
            context=spec.context or spec.name,
            always_run=spec.always_run,
            optional=spec.optional,
            skip_report=spec.skip_report,
            conditional=bool(spec.run_if_changed or spec.skip_if_only_changed),
            branches=tuple(spec.branches),
            skip_branches=tuple(spec.skip_branches),
        )

    def could_run(self, branch: str) -> bool:
        """Prow's `Brancher.ShouldRun`: the alternatives joined by `|`, matched unanchored."""
        if self.skip_branches and compile_regex("|".join(self.skip_branches)).search(branch):
            return False
        return not self.branches or bool(compile_regex("|".join(self.branches)).search(branch))

    @property
    def context_required(self) -> bool:
        return not self.optional and not self.skip_report

    @property
    def triggers_conditionally(self) -> bool:
        # Prow: run_if_changed / skip_if_only_changed, or neither always_run nor a change rule
        # (then only a /test comment starts it): its status may never exist on a PR.
        return self.conditional or not self.always_run


def branch_requirements(
    branch: str, jobs: Iterable[Presubmit]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(required, required if present, optional) contexts of the jobs that could run on `branch`."""
    required: set[str] = set()
    if_present: set[str] = set()
    optional: set[str] = set()
    for job in jobs:
        if not job.could_run(branch):
            continue
        if not job.context_required:
            optional.add(job.context)
        elif job.triggers_conditionally:
            if_present.add(job.context)
        else:
            required.add(job.context)
    return tuple(sorted(required)), tuple(sorted(if_present)), tuple(sorted(optional))


def presubmits_by_repo(
    specs: Iterable[Mapping[str, list[PresubmitSpec]]],
) -> dict[str, tuple[Presubmit, ...]]:
    """Every file's presubmits, appended per repository in reading order (Prow's merge)."""
    merged: dict[str, list[Presubmit]] = {}
    for presubmits in specs:
        for repo, jobs in presubmits.items():
            merged.setdefault(repo, []).extend(Presubmit.of(j) for j in jobs)
    return {repo: tuple(jobs) for repo, jobs in merged.items()}
