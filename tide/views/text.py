"""Plain-text renderings for the terminal: `tide status` tables and `tide explain` (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tide.views.explain import Explanation
from tide.views.overview import Overview, PoolView
from tide.views.queue import ContextView, RunView, format_duration
from tide.views.terminal import clip, pad, plain, safe_lines, width

TITLE_WIDTH = 40
WHY_WIDTH = 70


def columns(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Aligned in display columns, so a row with CJK or emoji lines up with the others."""
    rows = [[plain(cell) for cell in row] for row in rows]
    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [pad(cell, widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append((indent + "  ".join([*cells, row[-1]])).rstrip())
    return lines


def _run_line(run: RunView) -> str:
    prs = ", ".join(f"#{n}" for n in run.prs)
    return (
        f"  {run.outcome.lower()}: {run.ref} testing {prs} on {run.base_sha[:7]}, "
        f"{format_duration(run.elapsed)} elapsed: {run.reason}"
    )


def pool_text(pool: PoolView) -> list[str]:
    lines = [f"{pool.key}  base {pool.base_sha[:7] or '?'}  {pool.action}: {pool.reason}"]
    if pool.error:
        lines.append(f"  error: {pool.error}")
    for b in pool.blockers:
        lines.append(f"  blocked by #{b.number}: {clip(b.title, WHY_WIDTH)}")
    lines += [_run_line(r) for r in pool.in_flight]
    entries = [*pool.queue, *pool.waiting]
    if not entries:
        lines.append("  (no pull requests)")
        return lines
    rows = [("#", "PR", "title", "state", "why")]
    for e in entries:
        position = str(e.position) if e.position is not None else "-"
        rows.append(
            (
                position,
                f"#{e.number}",
                clip(e.title, TITLE_WIDTH),
                e.place.value,
                clip(e.why, WHY_WIDTH),
            )
        )
    return lines + columns(rows)


def status_text(view: Overview) -> str:
    lines: list[str] = []
    sync = view.sync
    if sync is None:
        lines.append("No sync has finished yet.")
    else:
        age = format_duration((view.now - sync.finished_at).total_seconds())
        lines.append(f"Last sync {age} ago ({sync.duration:.1f}s, {sync.prs} PRs found).")
        lines += [f"sync error: {e}" for e in sync.errors]
    lines += [f"config problem: {p}" for p in view.config_problems]
    if view.instance:
        lines.append(f"Instance {view.instance}.")
    for where, why in sorted(view.standby.items()):
        scope = "everywhere" if where == "*" else f"on {where}"
        lines.append(f"Standing by {scope}: {why}")
    if sync is not None and not view.pools:
        lines.append("No open pull request matches a query.")
    for pool in view.pools:
        lines.append("")
        lines += pool_text(pool)
    return safe_lines("\n".join(lines)) + "\n"


def _contexts(title: str, contexts: Sequence[ContextView], now: datetime) -> list[str]:
    if not contexts:
        return []
    lines = ["", title]
    for c in contexts:
        since = f" for {format_duration((now - c.since).total_seconds())}" if c.since else ""
        lines.append(f"  {c.state.lower():<8} {c.name}{since}")
    return lines


def explain_text(ex: Explanation) -> str:
    now = ex.checked_at or datetime.now().astimezone()
    title = f" {clip(ex.title, 80)}" if ex.title else ""
    lines = [f"{ex.key}{title}", ex.headline]
    if ex.criteria:
        lines.append("")
        lines.append("Criteria:")
        name_width = max(width(plain(c.name)) for c in ex.criteria)
        for c in ex.criteria:
            mark = "ok " if c.met else "NO "
            lines.append(f"  {mark} {pad(plain(c.name), name_width)}  {plain(c.detail)}")
    if ex.status is not None:
        lines += ["", f"tide status: {ex.status.state}: {ex.status.description}"]
    if ex.position is not None:
        place = ex.place.value if ex.place else ""
        lines += ["", f"Queue: #{ex.position} of {ex.queue_length} ({place})"]
    elif ex.place is not None:
        lines += ["", f"Queue: {ex.place.value}"]
    if ex.pool_action:
        lines.append(f"Pool: {ex.pool_action}: {ex.pool_reason}")
    if ex.batch is not None:
        lines.append("Batch:" + _run_line(ex.batch)[1:])
    lines += _contexts("Waiting for:", ex.awaited, now)
    if ex.history:
        lines += ["", "History:"]
        for r in ex.history:
            when = r.time.strftime("%Y-%m-%d %H:%M:%S")
            err = f" (error: {r.err})" if r.err else ""
            lines.append(f"  {when}  {r.action:<13} {r.reason}{err}")
    return safe_lines("\n".join(lines)) + "\n"
