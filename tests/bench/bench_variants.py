"""Benchmark: checking a post with per-network variants against every target's rules.

What a create, a PATCH or one CSV row costs in rule checks, in-process (no I/O): posts
to N networks (of Bluesky, Facebook, Instagram, Pinterest, sandbox, X, YouTube) with an
image, each network with its own caption, half of them a first comment, Instagram a
carousel; plus parsing the CSV ``variants`` cell. Prints µs per post and the time a
5,000-row import spends on both. Figures only, never asserts.

    uv run python tests/bench/bench_variants.py [--posts 5000] [--networks 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

from siar.connectors import Connector, MediaItem
from siar.connectors.bluesky import BlueskyConnector
from siar.connectors.facebook import FacebookPagesConnector
from siar.connectors.instagram import InstagramConnector
from siar.connectors.pinterest import PinterestConnector
from siar.connectors.rules import MediaKind
from siar.connectors.sandbox import SandboxConnector
from siar.connectors.x import XConnector
from siar.connectors.youtube import YouTubeConnector
from siar_scheduler.domain import PostVariant, Target
from siar_scheduler.variants import rule_violations, variants_from_json, variants_to_json

CLASSES: list[type[Connector]] = [
    BlueskyConnector,
    FacebookPagesConnector,
    InstagramConnector,
    PinterestConnector,
    SandboxConnector,
    XConnector,
    YouTubeConnector,
]
IMAGE = MediaItem(
    kind=MediaKind.IMAGE, mime_type="image/jpeg", size_bytes=200_000, width=1080, height=1080
)
TEXT = "Spring menu is out 🌷 #kopi #spring with @kopisenja — see https://siar.test/menu"


def connectors(count: int) -> dict[str, Connector]:
    chosen = CLASSES[:count]
    return {cls.network: cls.__new__(cls) for cls in chosen}


def variants_for(networks: list[str], n: int) -> dict[str, PostVariant]:
    out = {}
    for i, network in enumerate(networks):
        out[network] = PostVariant(
            text=f"{TEXT} ({network} {n})",
            first_comment="#more #tags" if i % 2 else None,
            format="carousel" if network == "instagram" else None,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--networks", type=int, default=len(CLASSES))
    args = parser.parse_args()
    by_name = connectors(args.networks)
    networks = list(by_name)
    targets = [Target(account_id=f"acc_{n}", network=n) for n in networks]
    media = (IMAGE, IMAGE)
    posts = [variants_for(networks, n) for n in range(args.posts)]
    cells = [variants_to_json(v) for v in posts]

    checks: list[float] = []
    broken = 0
    for variants in posts:
        start = time.perf_counter()
        broken += len(rule_violations(by_name, TEXT, targets, media, variants))
        checks.append(time.perf_counter() - start)
    start = time.perf_counter()
    for cell in cells:
        variants_from_json(cell)
    parse_s = time.perf_counter() - start
    plain: list[float] = []
    for _ in range(args.posts):
        start = time.perf_counter()
        rule_violations(by_name, TEXT, targets, media)
        plain.append(time.perf_counter() - start)

    us = 1e6
    print(f"posts={args.posts} networks={len(networks)} ({', '.join(networks)})")
    print(
        f"rule check with variants: median {statistics.median(checks) * us:.0f} µs, "
        f"p99 {sorted(checks)[int(len(checks) * 0.99)] * us:.0f} µs per post "
        f"({broken} violations in all, e.g. Pinterest first comments)"
    )
    print(f"rule check without variants: median {statistics.median(plain) * us:.0f} µs per post")
    print(f"CSV variants cell parse: {parse_s / args.posts * us:.1f} µs per row")
    print(f"a {args.posts}-row import spends {(sum(checks) + parse_s) * 1000:.0f} ms on both")


if __name__ == "__main__":
    main()
