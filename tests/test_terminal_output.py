"""`tide status` and `tide explain` with titles and context names chosen by whoever opened
the PR: no escape sequence reaches the terminal, and CJK or emoji titles keep columns aligned."""

from __future__ import annotations

import asyncio

from e2e import make_world, running_queue
from wcwidth import wcswidth

from tide.cli import main
from tide.clock import VirtualClock
from tide.server.app import StatusServer

HOSTILE = "Fix\x1b]0;pwned\x07 the \x1b[2Jbuild\r\u202egnp.exe\x9b31m"
WIDE = "修复错误 🚀 emoji"


async def tide(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


def has_control(text: str) -> bool:
    return any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in text)


async def test_status_and_explain_strip_control_characters_and_align_wide_titles(schema, capsys):
    clock = VirtualClock()
    world = make_world(clock)
    hostile = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"], title=HOSTILE)
    wide = world.open_pr("org/repo", files={"b.txt": "1\n"}, labels=["lgtm"], title=WIDE)
    plain = world.open_pr("org/repo", files={"c.txt": "1\n"}, labels=["lgtm"], title="Plain")
    async with running_queue(world, clock) as q, StatusServer(q.daemon, port=0) as server:
        await q.sync()
        capsys.readouterr()
        assert await tide("status", "--url", server.url) == 0
        status = capsys.readouterr().out
        assert await tide("explain", f"org/repo#{hostile.number}", "--url", server.url) == 0
        explained = capsys.readouterr().out

    assert not has_control(status) and not has_control(explained)
    assert "Fix]0;pwned the [2Jbuild gnp.exe31m" in status
    rows = [
        line
        for line in status.splitlines()
        if f"#{wide.number}" in line or f"#{plain.number}" in line or line.strip().startswith("#  ")
    ]
    # The column after the title starts at the same display column on every row.
    starts = []
    for line in rows:
        title_end = line.index("Plain") + len("Plain") if "Plain" in line else None
        if title_end is None and "emoji" in line:
            title_end = line.index("emoji") + len("emoji")
        if title_end is None:
            continue
        rest = line[title_end:]
        starts.append(wcswidth(line[:title_end]) + len(rest) - len(rest.lstrip()))
    assert len(starts) == 2 and starts[0] == starts[1], status
