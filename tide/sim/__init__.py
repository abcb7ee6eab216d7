"""A GitHub simulator: GraphQL and REST over HTTP on 127.0.0.1, a git model and a fake CI."""

from tide.sim.faults import Faults
from tide.sim.server import SimServer
from tide.sim.world.ci import CIRun, FakeCI, Job, Rule, fail_if_all_present, fail_if_present
from tide.sim.world.entities import Refusal, SimIssue, SimPR, SimRepo
from tide.sim.world.git import Commit, MergeConflict
from tide.sim.world.world import World

__all__ = [
    "CIRun",
    "Commit",
    "FakeCI",
    "Faults",
    "Job",
    "MergeConflict",
    "Refusal",
    "Rule",
    "SimIssue",
    "SimPR",
    "SimRepo",
    "SimServer",
    "World",
    "fail_if_all_present",
    "fail_if_present",
]
