"""Benchmark: checking thread variants (every part measured the network's way).

What a create, a PATCH or one CSV row with a thread costs in rule checks, in-process (no
I/O): X (twitter-text weights, 25 parts at most) and Bluesky (grapheme clusters) each get
a thread of N parts of ~200 characters with a URL and an emoji; plus parsing the CSV
``variants`` cell that carries them. Prints µs per post, figures only, never asserts.

    uv run python tests/bench/bench_thread.py [--posts 2000] [--parts 24]
"""

from __future__ import annotations

import argparse
import statistics
import time

from siar.connectors import Connector
from siar.connectors.bluesky import BlueskyConnector
from siar.connectors.x import XConnector
from siar_scheduler.domain import PostVariant, Target
from siar_scheduler.variants import rule_violations, variants_from_json, variants_to_json

PART = "Spring menu 🌷 part {n}: pandan latte, kopi susu and kue lapis — https://siar.test/m "


def thread_of(parts: int, post: int) -> PostVariant:
    texts = [(PART.format(n=n) * 3)[:200] + f" {post}" for n in range(2, parts + 2)]
    return PostVariant(text=f"1/ Spring {post}", format="thread", thread=texts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--parts", type=int, default=24)
    args = parser.parse_args()
    connectors: dict[str, Connector] = {
        c.network: c.__new__(c) for c in (XConnector, BlueskyConnector)
    }
    targets = [Target(account_id=f"acc_{n}", network=n) for n in connectors]
    posts = [{n: thread_of(args.parts, i) for n in connectors} for i in range(args.posts)]
    cells = [variants_to_json(v) for v in posts]

    checks: list[float] = []
    broken = 0
    for variants in posts:
        start = time.perf_counter()
        broken += len(rule_violations(connectors, "1/ Spring", targets, (), variants))
        checks.append(time.perf_counter() - start)
    start = time.perf_counter()
    for cell in cells:
        variants_from_json(cell)
    parse_s = time.perf_counter() - start

    us = 1e6
    print(f"posts={args.posts} networks=x, bluesky parts={args.parts} (+ the caption)")
    print(
        f"rule check: median {statistics.median(checks) * us:.0f} µs, "
        f"p99 {sorted(checks)[int(len(checks) * 0.99)] * us:.0f} µs per post "
        f"({broken} violations: Bluesky's 300-grapheme parts fit, so do X's weighted ones)"
    )
    print(f"CSV variants cell parse: {parse_s / args.posts * us:.1f} µs per row")
    print(f"a {args.posts}-row import spends {(sum(checks) + parse_s) * 1000:.0f} ms on both")


if __name__ == "__main__":
    main()
