"""Queue strategies as configurations of the real daemon: name -> config snippet.

A snippet is merged into the base config (`tide:` and `queue:` sections), so a new
strategy, or a new option of an old one, is one more entry here.
"""

from __future__ import annotations

import textwrap

import yaml

from tide.config import Config, parse_config

Snippet = dict[str, dict[str, object]]

REPO = "org/repo"
READY_LABEL = "lgtm"

BASE: Snippet = {
    "tide": {
        "sync_period": "1m",
        "queries": [{"repos": [REPO], "labels": [READY_LABEL]}],
        # Prow's default: no limit on the size of a batch.
        "batch_size_limit": {"*": 0},
    },
    "queue": {},
}

STRATEGIES: dict[str, Snippet] = {
    "serial": {"tide": {"batch_size_limit": {"*": -1}}},
    "tide": {"queue": {"batch_failure_strategy": "tide"}},
    "bisect": {"queue": {"batch_failure_strategy": "bisect"}},
    "bisect-parallel": {"queue": {"batch_failure_strategy": "bisect", "bisect_parallel": True}},
    "lanes": {"queue": {"batch_failure_strategy": "lanes"}},
}

# The flake-handling choices of the batches issue, measured against `bisect` (which runs the
# defaults: single_retries 1, batch_retries 0).
FLAKE_VARIANTS: dict[str, Snippet] = {
    "bisect single_retries=0": {"queue": {"single_retries": 0}},
    "bisect batch_retries=1": {"queue": {"batch_retries": 1}},
}

ALL: dict[str, Snippet] = {**STRATEGIES, **FLAKE_VARIANTS}


def merged(*snippets: Snippet) -> Snippet:
    """Later snippets win, key by key within each section."""
    out: Snippet = {}
    for snippet in snippets:
        for section, values in snippet.items():
            out[section] = {**out.get(section, {}), **values}
    return out


def config_for(name: str, graphql_url: str, api_url: str) -> Config:
    """The daemon's config for strategy `name` against a simulator at these URLs."""
    snippet = merged(BASE, ALL[name])
    document = {"github": {"graphql_url": graphql_url, "api_url": api_url}, **snippet}
    text = yaml.safe_dump(document, sort_keys=False)
    return parse_config(textwrap.dedent(text), source=f"bench:{name}")
