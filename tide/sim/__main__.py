"""`python -m tide.sim --port N --seed S`: serve the sample world for manual play with curl."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from tide.sim.sample import SAMPLE_TOKEN, sample_world
from tide.sim.server import SimServer


async def serve(port: int, seed: int) -> None:
    world = sample_world(seed)
    async with SimServer(world, port=port) as sim:
        print(f"GitHub simulator on {sim.url} (seed {seed})")
        print(f"  token:   {SAMPLE_TOKEN}")
        print(f"  graphql: {sim.graphql_url}")
        print(f"  try:     curl -H 'Authorization: token {SAMPLE_TOKEN}' {sim.api_url}/user")
        print(f"  control: curl {sim.url}/_sim/prs ; curl -X POST {sim.url}/_sim/tick")
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tide.sim", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.seed))


if __name__ == "__main__":
    main()
