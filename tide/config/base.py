"""The pydantic base every config section shares: unknown keys are errors, no silent coercion."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Strict like Go's JSON decoding: `"5"` is not an int, `yes`/`1` are not strings."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
