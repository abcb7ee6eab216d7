"""Where a config comes from: tide's own file, Prow's files, or both, read as Prow reads them.

- `--config FILE`: tide's file. Its own settings (github, queue, server, webhooks, history,
  log) sit under the top-level key `daemon:` (a key Prow never uses) or, as before, at the top
  level. A `tide:` section and Prow's other sections may sit beside them.
- `--config-path FILE`: a whole Prow config, unchanged. Prow's sections tide has no use for
  (plank, deck, sinker, ...) are accepted and named once at start-up as "not used by tide";
  `github.link_url` is Prow's and likewise unused.
- `--supplemental-prow-config-dir DIR`: every `*_prowconfig.yaml` below DIR, merged by Prow's
  rules: `tide.queries` appended, `tide.merge_method` and `slack_reporter_configs` keys added
  (a key set twice is an error), `branch-protection` merged (a policy or setting set twice is
  an error); any other key is an error, as Prow has no merge rule for it.
- `--job-config-path PATH`: Prow's job config (a file or a directory of .yaml/.yml files); the
  presubmits add the contexts Prow requires per branch (`tide.config.jobs`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from tide.config.assembly import Assembly
from tide.config.diagnostics import validation_problems
from tide.config.document import Config
from tide.config.jobs import JobConfigSpec, Presubmit, presubmits_by_repo
from tide.config.problems import ConfigError, Problem
from tide.config.prow_context import ProwContext
from tide.config.prow_merge import ONLY_MERGEABLE, BranchProtectionMerge
from tide.config.prow_sections import DAEMON_KEY, PROW_GITHUB_KEYS, PROW_SECTIONS
from tide.config.source import YamlDocument, YamlSyntaxError, read_yaml

OWN_SECTIONS = ("github", "queue", "server", "webhooks", "history", "log")
SUPPLEMENTAL_SUFFIX = "_prowconfig.yaml"


@dataclass(frozen=True, slots=True)
class ConfigFiles:
    """The files a config is read from (the CLI's flags); `load` reads them all."""

    config: Path | None = None
    prow_config: Path | None = None
    supplemental_dirs: tuple[Path, ...] = ()
    supplemental_suffix: str = SUPPLEMENTAL_SUFFIX
    job_config: Path | None = None

    def supplemental_files(self) -> list[Path]:
        return [p for d in self.supplemental_dirs for p in _walk(d, (self.supplemental_suffix,))]

    def job_files(self) -> list[Path]:
        if self.job_config is None:
            return []
        if self.job_config.is_dir():
            return list(_walk(self.job_config, (".yaml", ".yml")))
        return [self.job_config]

    def paths(self) -> list[Path]:
        """Every file read: a change to any of them reloads the config."""
        main = [p for p in (self.config, self.prow_config) if p is not None]
        return [*main, *self.supplemental_files(), *self.job_files()]

    def digest(self) -> str:
        sha = hashlib.sha256()
        for path in self.paths():
            sha.update(str(path).encode() + b"\0")
            try:
                sha.update(path.read_bytes())
            except OSError:
                sha.update(b"<unreadable>")
        return sha.hexdigest()

    def describe(self) -> str:
        if self.prow_config is None:
            return str(self.config or "config")
        parts = [f"Prow config {self.prow_config}"]
        if self.config is not None:
            parts.insert(0, str(self.config))
        supplemental = len(self.supplemental_files())
        if supplemental:
            parts.append(f"{supplemental} supplemental file(s)")
        if self.job_config is not None:
            parts.append(f"job config {self.job_config}")
        return " + ".join(parts)

    def load(self) -> Config:
        """Read, merge and validate every file; `ConfigError` lists every problem found."""
        return _Loader(self).load()


def describe_source(source: Path | ConfigFiles | None) -> str:
    """How the start-up block and logs name where the config came from."""
    if isinstance(source, ConfigFiles):
        return source.describe()
    return str(source or "config")


def parse_text(text: str, source: str) -> Config:
    """tide's own config given as text (`--config` format); `source` names it in problems."""
    loader = _Loader(ConfigFiles(config=Path(source)))
    try:
        doc = read_yaml(text, source)
    except YamlSyntaxError as exc:
        raise ConfigError([exc.problem]) from None
    loader.problems += doc.problems
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ConfigError([Problem("", 1, "the top level must be a mapping of sections", source)])
    loader.take_main(doc, prow=False)
    return loader.finish()


def _walk(root: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Files under `root` ending in one of `suffixes`, in lexical order (Go's filepath.Walk);
    `..`-prefixed entries (Kubernetes' ConfigMap plumbing) are skipped, as Prow skips them."""
    for current, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".."))
        for name in sorted(names):
            if not name.startswith("..") and name.endswith(suffixes):
                yield Path(current) / name


@dataclass
class _Loader:
    files: ConfigFiles
    problems: list[Problem] = field(default_factory=list)
    unused: set[str] = field(default_factory=set)
    job_specs: list[JobConfigSpec] = field(default_factory=list)
    tenants: list[object] = field(default_factory=list)
    branch_protection: list[tuple[YamlDocument, object]] = field(default_factory=list)
    slack_keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        main = self.files.prow_config or self.files.config or Path("config.yaml")
        self.assembly = Assembly(source=str(main))
        self.owner: dict[str, str] = {}  # top-level section -> file that set it

    def load(self) -> Config:
        for path, prow in ((self.files.config, False), (self.files.prow_config, True)):
            doc = self.read(path) if path is not None else None
            if doc is not None:
                self.take_main(doc, prow=prow)
        merge = BranchProtectionMerge()
        for doc, value in self.branch_protection:
            merge.add(doc, value)
        for path in self.files.supplemental_files():
            doc = self.read(path)
            if doc is not None:
                self.take_supplemental(doc, merge)
        self.problems += merge.problems
        names: dict[str, Path] = {}
        in_dir = self.files.job_config is not None and self.files.job_config.is_dir()
        for path in self.files.job_files():
            if in_dir and path.name in names:
                message = (
                    f"duplicated basename is not allowed: {path.name} (also {names[path.name]})"
                )
                self.problems.append(Problem("", None, message, str(path)))
                continue
            names[path.name] = path
            doc = self.read(path)
            if doc is not None:
                self.take_jobs(doc, dict(_mapping(doc.data)))
        return self.finish()

    def finish(self) -> Config:
        """Validate what was assembled; every problem of every file is reported at once."""
        context = ProwContext(
            unused=tuple(sorted(self.unused)),
            presubmits=presubmits_by_repo(spec.presubmits for spec in self.job_specs),
            tenant_entries=tuple(self.tenants),
        )
        try:
            config = Config.model_validate(self.assembly.data, context={"prow": context})
        except ValidationError as exc:
            self.problems += validation_problems(exc, self.assembly, Config)
        if self.problems:
            raise ConfigError(self.problems)
        return config

    def read(self, path: Path) -> YamlDocument | None:
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.problems.append(
                Problem("", None, f"cannot read the config file: {reason}", source)
            )
            return None
        except UnicodeDecodeError as exc:
            message = f"the config file is not UTF-8 text: {exc.reason}"
            self.problems.append(Problem("", None, message, source))
            return None
        try:
            doc = read_yaml(text, source)
        except YamlSyntaxError as exc:
            self.problems.append(exc.problem)
            return None
        self.problems += doc.problems
        if doc.data is not None and not isinstance(doc.data, dict):
            message = "the top level must be a mapping of sections"
            self.problems.append(Problem("", 1, message, source))
            return None
        return doc

    def claim(self, section: str, doc: YamlDocument, at: tuple[str, ...]) -> bool:
        """Record `doc` as the file setting `section`; a second file setting it is a problem."""
        first = self.owner.get(section)
        if first is None:
            self.owner[section] = doc.source
            return True
        if section == "tide":
            message = (
                f"tide is already set in {first}; keep one tide section (Prow's, in its config)"
            )
        else:
            message = f"{section} is already set in {first}; set it in one place only"
        self.problems.append(doc.problem(at, message))
        return False

    def take_main(self, doc: YamlDocument, *, prow: bool) -> None:
        """A whole file's sections. In a Prow config, a top-level key Prow does not know is
        ignored as Prow's own loading ignores it (e.g. a `.defaults:` key holding anchors)."""
        known = {DAEMON_KEY, "tide", *OWN_SECTIONS, *PROW_SECTIONS, "presubmits"}
        for key, value in _mapping(doc.data):
            if value is None:
                continue
            if key == DAEMON_KEY:
                self.take_daemon(doc, value)
            elif key == "github" and isinstance(value, dict):
                self.unused.update(f"github.{k}" for k in value if k in PROW_GITHUB_KEYS)
                own = {k: v for k, v in value.items() if k not in PROW_GITHUB_KEYS}
                if own and self.claim("github", doc, ("github",)):
                    self.assembly.place(("github",), _without_nulls(own), doc, ("github",))
            elif key == "presubmits":
                self.take_jobs(doc, {"presubmits": value})
                self.unused.add("presubmits (beyond the contexts they require)")
            elif key in PROW_SECTIONS:
                self.unused.add(key)
                if key == "branch-protection":
                    self.branch_protection.append((doc, value))
                if key == "slack_reporter_configs" and isinstance(value, dict):
                    self.slack_keys.update(dict.fromkeys(value, doc.source))
                if key == "prowjob_default_entries" and isinstance(value, list):
                    self.tenants.extend(value)
            elif prow and key not in known:
                self.unused.add(f"{key} (unknown to Prow too)")
            elif self.claim(key, doc, (key,)):
                self.assembly.place((key,), _without_nulls(value), doc, (key,))

    def take_daemon(self, doc: YamlDocument, value: object) -> None:
        if not isinstance(value, dict):
            message = f"expected a mapping of tide's own sections ({', '.join(OWN_SECTIONS)})"
            self.problems.append(doc.problem((DAEMON_KEY,), message))
            return
        for key, section in value.items():
            at = (DAEMON_KEY, key)
            if key not in OWN_SECTIONS:
                message = f"unknown key; {DAEMON_KEY} holds {', '.join(OWN_SECTIONS)}"
                self.problems.append(doc.problem(at, message))
            elif section is not None and self.claim(key, doc, at):
                self.assembly.place((key,), _without_nulls(section), doc, at)

    def take_supplemental(self, doc: YamlDocument, merge: BranchProtectionMerge) -> None:
        for key, value in _mapping(doc.data):
            if value is None:
                continue
            if key == "branch-protection":
                merge.add(doc, value)
            elif key == "slack_reporter_configs" and isinstance(value, dict):
                self.unused.add(key)
                for scope in value:
                    if scope in self.slack_keys:
                        message = f"config for org or repo {scope} passed more than once"
                        self.problems.append(doc.problem((key, scope), message))
                    self.slack_keys.setdefault(scope, doc.source)
            elif key == "tide" and isinstance(value, dict):
                self.take_supplemental_tide(doc, value)
            else:
                self.problems.append(doc.problem((key,), ONLY_MERGEABLE))

    def take_supplemental_tide(self, doc: YamlDocument, tide: dict[str, object]) -> None:
        data = self.assembly.data
        for key, value in tide.items():
            at = ("tide", key)
            if value is None:
                continue
            if key == "queries" and isinstance(value, list):
                self.assembly.append(at, _without_nulls(value), doc, at)  # type: ignore[arg-type]
            elif key == "merge_method" and isinstance(value, dict):
                section = data.setdefault("tide", {})
                assert isinstance(section, dict)
                existing = section.setdefault("merge_method", {})
                assert isinstance(existing, dict)
                for scope, method in value.items():
                    if scope in existing:
                        message = f"config for org or repo {scope} passed more than once"
                        self.problems.append(doc.problem((*at, scope), message))
                    else:
                        self.assembly.place((*at, scope), _without_nulls(method), doc, (*at, scope))
            else:
                self.problems.append(doc.problem(at, ONLY_MERGEABLE))

    def take_jobs(self, doc: YamlDocument, data: dict[str, object]) -> None:
        assembly = Assembly(source=doc.source)
        for key, value in data.items():
            if value is not None:
                assembly.place((key,), _without_nulls(value), doc, (key,))
        try:
            self.job_specs.append(JobConfigSpec.model_validate(assembly.data))
        except ValidationError as exc:
            self.problems += validation_problems(exc, assembly, JobConfigSpec)


def _mapping(data: object) -> list[tuple[str, object]]:
    return list(data.items()) if isinstance(data, dict) else []


def _without_nulls(value: object) -> object:
    # A key left empty (`missingLabels:`) means "not set", as in Prow's Go decoding.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


__all__ = ["ConfigFiles", "Presubmit"]
