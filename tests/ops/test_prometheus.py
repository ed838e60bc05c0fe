"""Alert rules: promtool checks them and runs their unit tests; every alert has a runbook.

promtool comes from Debian's prometheus package, which .ci/run installs, so CI always
runs these; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.ops.promql import promtool_path

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
RULES = sorted((PROM / "rules").glob("*.yml"))
TESTS = sorted((PROM / "tests").glob("*.yml"))
REQUIRED = {
    "SiarPostsDispatchedLate",
    "SiarPublishFailureRateHigh",
    "SiarKafkaConsumerLagHigh",
    "SiarDeadLettersGrowing",
    "SiarTokenRefreshFailing",
    "SiarAuditChainBroken",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool_path(), *args], capture_output=True, text=True, check=False, cwd=PROM / "tests"
    )


def alerts() -> dict[str, dict[str, Any]]:
    out = {}
    for path in RULES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    out[rule["alert"]] = rule
    return out


def test_promtool_checks_the_rules() -> None:
    result = promtool("check", "rules", *map(str, RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    result = promtool("test", "rules", *map(str, TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_can_fail(tmp_path: Path) -> None:
    broken = yaml.safe_load(TESTS[0].read_text(encoding="utf-8"))
    broken["rule_files"] = [str(p) for p in RULES]
    # Claim the audit alert stays quiet while the chain is broken: promtool must object.
    case = next(t for t in broken["tests"] if "audit" in t["name"])
    for check in case["alert_rule_test"]:
        check["exp_alerts"] = []
    path = tmp_path / "broken-test.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = promtool("test", "rules", str(path))
    assert result.returncode != 0


def test_promtool_checks_the_compose_prometheus_config(tmp_path: Path) -> None:
    config = yaml.safe_load((PROM / "prometheus.yml").read_text(encoding="utf-8"))
    config["rule_files"] = [str(p) for p in RULES]  # the paths inside the container
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = promtool("check", "config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_required_alerts_exist_with_runbooks() -> None:
    found = alerts()
    assert set(found) >= REQUIRED
    for name, rule in found.items():
        runbook = rule["annotations"]["runbook_url"]
        path = ROOT / runbook
        assert path.is_file(), f"{name}: runbook {runbook} missing"
        assert name in path.read_text(encoding="utf-8"), f"{runbook} does not name {name}"
        assert rule["labels"]["severity"] in {"page", "warn"}


def test_every_alert_is_unit_tested_firing_and_quiet() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for path in TESTS:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    assert fired == set(alerts())
    assert quiet == set(alerts())
