"""How long the offline deployment checks take (make ops-check's pieces), in seconds.

uv run python tests/bench/bench_ops_checks.py [--runs 3]

Prints the median and the spread of each step over --runs runs: rendering both overlays
(this repository's renderer and, where present, kubectl kustomize), strict validation of
every rendered object, the Compose schema check, promtool's rule tests, yamllint, and
the image's `uv sync` of one service into an empty directory. Never asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import kubernetes_validate  # noqa: E402

from tests.ops.crd_schemas import SCHEMAS  # noqa: E402
from tests.ops.kustomize import render  # noqa: E402

OVERLAYS = [ROOT / "deploy/k8s/overlays" / name for name in ("dev", "prod")]


def run(*cmd: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env=env)


def render_python() -> None:
    for overlay in OVERLAYS:
        render(overlay)


def render_kubectl() -> None:
    for overlay in OVERLAYS:
        run("kubectl", "kustomize", str(overlay))


def validate_strict() -> None:
    for overlay in OVERLAYS:
        for obj in render(overlay):
            if (obj["apiVersion"], obj["kind"]) not in SCHEMAS:
                kubernetes_validate.validate(obj, "1.33.0", strict=True)


def compose_schema() -> None:
    run(sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
        "docker-compose.yml")  # fmt: skip


def promtool_tests() -> None:
    run("promtool", "test", "rules", "deploy/prometheus/tests/siar-alerts-test.yml")


def yamllint() -> None:
    run(sys.executable, "-m", "yamllint", "-c", "deploy/yamllint.yaml", "deploy",
        "docker-compose.yml")  # fmt: skip


def uv_sync_one_service() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": f"{tmp}/siar", "UV_LINK_MODE": "copy"}
        env.pop("VIRTUAL_ENV", None)
        run("uv", "sync", "--frozen", "--no-dev", "--no-editable", "--package",
            "siar-scheduler", env=env)  # fmt: skip


def measure(step: Callable[[], None], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    steps: list[tuple[str, Callable[[], None], str | None]] = [
        ("render dev+prod (tests/ops/kustomize.py)", render_python, None),
        ("render dev+prod (kubectl kustomize)", render_kubectl, "kubectl"),
        ("kubernetes-validate --strict, both overlays", validate_strict, None),
        ("check-jsonschema compose-spec", compose_schema, None),
        ("promtool test rules", promtool_tests, "promtool"),
        ("yamllint deploy/ + compose", yamllint, None),
        ("uv sync --frozen --no-dev siar-scheduler (temp dir)", uv_sync_one_service, "uv"),
    ]
    print(f"{'step':55} {'median s':>9} {'min s':>7} {'max s':>7}  (runs={args.runs})")
    for name, step, needs in steps:
        if needs and shutil.which(needs) is None:
            print(f"{name:55} {'skipped: no ' + needs:>25}")
            continue
        times = measure(step, args.runs)
        print(f"{name:55} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
