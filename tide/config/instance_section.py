"""`instance:`: who this daemon is, and how it makes sure only one instance acts.

Two daemons on the same repositories (a rolling update, a forgotten systemd unit) would
rebuild and merge under each other. On Kubernetes a `coordination.k8s.io` Lease decides
which one acts; elsewhere an instance that sees another one's recent staging commits on a
repository stands by for that repository until they are `standby_expiry` old.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from tide.config.base import StrictModel
from tide.config.duration import Duration

_ID = re.compile(r"^[A-Za-z0-9._-]{1,63}$")
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


class LeaseSettings(StrictModel):
    """A Kubernetes Lease held by the acting instance; the others stand by."""

    name: str = "tide"
    # Default: the pod's own namespace, read from its service-account mount.
    namespace: str | None = None
    duration: Duration = 30.0

    @field_validator("name", "namespace")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is not None and not _DNS_NAME.match(value):
            raise ValueError(f'"{value}" is not a Kubernetes object name (lowercase, digits, -, .)')
        return value

    @field_validator("duration")
    @classmethod
    def _long_enough(cls, value: float) -> float:
        if value < 5:
            raise ValueError("a lease shorter than 5s would be lost between two renewals")
        return value


class InstanceSettings(StrictModel):
    """This daemon's identity and its stand-by rules."""

    # Default: generated once and kept beside history.path, so a restart keeps it.
    id: str | None = None
    standby_expiry: Duration = Field(default=900.0, gt=0)
    lease: LeaseSettings | None = None

    @field_validator("id")
    @classmethod
    def _ref_safe(cls, value: str | None) -> str | None:
        if value is not None and not _ID.match(value):
            raise ValueError(f'"{value}" must be 1-63 letters, digits, ".", "_" or "-"')
        return value
