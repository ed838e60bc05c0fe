"""yamllint over every YAML file in deploy/ and docker-compose.yml (deploy/yamllint.yaml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "yamllint.yaml"


def yamllint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yamllint", "-c", str(CONFIG), "-f", "parsable", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_deploy_yaml_is_lint_clean() -> None:
    result = yamllint(ROOT / "deploy", ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_yamllint_reports_real_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\na: 2\n")  # a duplicated key: the second silently wins
    result = yamllint(bad)
    assert result.returncode != 0
    assert "key-duplicates" in result.stdout
