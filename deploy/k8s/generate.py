"""Writes deploy/k8s/base/services/*.yaml (one file per workload) and the topic files.

The five services and the console are described by a few facts each (k8s_services.py);
their manifests are built from those facts the same way (k8s_workloads.py for pods,
Services, disruption budgets and autoscalers, k8s_network.py for NetworkPolicies). Run
`python deploy/k8s/generate.py` after changing any of these modules;
tests/ops/test_k8s.py fails while the committed YAML differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

# A script beside its helper modules, also loaded by path from the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import k8s_monitoring
from k8s_network import network_policy
from k8s_services import SERVICES, Service
from k8s_topics import GENERATED, compose_topics_script, kafka_topics
from k8s_workloads import autoscaler, deployment, service_objects

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "deploy" / "k8s" / "base" / "services"


def render(svc: Service) -> str:
    """Every object of one workload as a YAML stream."""
    objects = [
        *service_objects(svc),
        deployment(svc),
        autoscaler(svc),
        network_policy(svc),
    ]
    header = GENERATED.format(what=f"the {svc.name} entry of k8s_services.py")
    return header + yaml.safe_dump_all(objects, sort_keys=False, width=100)


def outputs() -> dict[Path, str]:
    """Every generated file and its content."""
    files = {OUT / f"{svc.name}.yaml": render(svc) for svc in SERVICES}
    files[ROOT / "deploy" / "k8s" / "base" / "kafka" / "topics.yaml"] = kafka_topics()
    files[ROOT / "deploy" / "docker" / "kafka-topics.sh"] = compose_topics_script()
    files.update(k8s_monitoring.outputs())
    return files


def main(argv: list[str]) -> int:
    """Write the files, or with --check report whether the committed ones are current."""
    check = "--check" in argv
    stale = []
    for path, text in outputs().items():
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}; run python deploy/k8s/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
