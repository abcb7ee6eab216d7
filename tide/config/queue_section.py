"""The `queue:` section: its keys are built from `tide.policy.QueueOptions`, declared there once.

Each option's Python type, default and `OptionForm` (minimum, duration, per repository) give its
field here; the checks that are more than that (a staging prefix git accepts, known author
associations, scope keys) are below. Only the overall CI cap is this section's own: it spans
every pool, so it is no per-branch option.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin, get_type_hints

from pydantic import Field, create_model, field_validator

from tide.config.base import StrictModel
from tide.config.duration import Duration
from tide.config.problems import reject
from tide.config.scopes import scope_key_issues, scoped_value
from tide.policy import FORM, OptionForm, QueueOptions

_REF_FORBIDDEN = set(" ~^:?*[\\")
# GitHub's CommentAuthorAssociation values.
_ASSOCIATIONS = (
    "OWNER",
    "MEMBER",
    "COLLABORATOR",
    "CONTRIBUTOR",
    "FIRST_TIME_CONTRIBUTOR",
    "FIRST_TIMER",
    "MANNEQUIN",
    "NONE",
)
_HINTS = get_type_hints(QueueOptions)
_FORMS = {f.name: f.metadata.get(FORM, OptionForm()) for f in fields(QueueOptions)}
_PER_REPO = tuple(name for name, form in _FORMS.items() if form.per_repo)
_ENUMS = {
    name: hint for name, hint in _HINTS.items() if isinstance(hint, type) and issubclass(hint, Enum)
}


def _field(name: str, default: Any) -> tuple[Any, Any]:
    """The pydantic field of one queue option: YAML's spelling of its type, and its default."""
    hint, form = _HINTS[name], _FORMS[name]
    annotation: Any = hint
    if form.duration:
        annotation = Duration
    elif get_origin(hint) is tuple:
        annotation = list[get_args(hint)[0]]  # type: ignore[misc]
        return annotation, Field(default_factory=lambda: list(default))
    elif name in _ENUMS:
        annotation = Literal[tuple(member.value for member in _ENUMS[name])]
        default = default.value
    if form.per_repo == "map":
        return dict[str, annotation], Field(default_factory=dict)
    if form.per_repo == "value_or_map":
        annotation = annotation | dict[str, annotation]
    return annotation, Field(default=default, ge=form.minimum)


def _fields() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for option in fields(QueueOptions):
        assert option.default is not MISSING, f"QueueOptions.{option.name} needs a default"
        out[option.name] = _field(option.name, option.default)
    return out


if TYPE_CHECKING:
    _QueueOptionFields = StrictModel
else:
    _QueueOptionFields = create_model(
        "_QueueOptionFields", __base__=StrictModel, __module__=__name__, **_fields()
    )


class QueueSettings(_QueueOptionFields):
    """Extensions beyond Prow (`queue:`): every field of `QueueOptions`, and the overall cap."""

    # Over every pool of this instance (None: only the per-pool cap); see `tide.capacity`.
    max_concurrent_runs_total: int | None = Field(default=None, ge=1)

    @field_validator("staging_prefix")
    @classmethod
    def _valid_ref_prefix(cls, value: str) -> str:
        if not value or value.startswith("/") or ".." in value or "//" in value:
            raise ValueError(f'"{value}" cannot start a branch name; use something like "tide/"')
        if _REF_FORBIDDEN & set(value) or any(ord(c) < 32 for c in value):
            raise ValueError(f'"{value}" has characters git does not allow in a branch name')
        return value

    @field_validator("retest_associations")
    @classmethod
    def _known_associations(cls, value: list[str]) -> list[str]:
        upper = [v.upper() for v in value]
        unknown = [v for v in upper if v not in _ASSOCIATIONS]
        if unknown:
            known = ", ".join(_ASSOCIATIONS)
            raise ValueError(f'"{unknown[0]}" is not a GitHub author association; use {known}')
        return upper

    @field_validator(*_PER_REPO)
    @classmethod
    def _scope_keys(cls, value: object) -> object:
        if isinstance(value, dict):
            issues = scope_key_issues(value)
            if issues:
                reject(issues)
        return value

    def options_for(self, org: str, repo: str) -> QueueOptions:
        """The options of one repository: per-repository values resolved, lists as tuples."""
        values: dict[str, Any] = {}
        for option in fields(QueueOptions):
            value = getattr(self, option.name)
            if isinstance(value, dict):
                value = scoped_value(value, org, repo, option.default)
            elif isinstance(value, list):
                value = tuple(value)
            elif option.name in _ENUMS:
                value = _ENUMS[option.name](value)
            values[option.name] = value
        return QueueOptions(**values)

    def scopes_where(self, name: str) -> list[str]:
        """Where a per-repository yes/no option is on: `*` for a plain true, else its keys."""
        value = getattr(self, name)
        if isinstance(value, dict):
            return sorted(key for key, on in value.items() if on)
        return ["*"] if value else []
