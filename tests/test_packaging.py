"""The program as users get it: an sdist and a wheel, installed into a fresh environment
outside the checkout, runs ``biofeedback --version`` and the headless demo (issue 14, item 8).

An installed program cannot find files by walking up from its source folder (design.md,
known traps): the demo's sample must come from inside the package. This test builds from a
copy of the project's files (so the checkout gains no ``build/`` or ``*.egg-info``), builds the
wheel from the sdist (so the sdist is complete), installs ``WHEEL[ui,ble]`` with pip (reusing
pip's cache) into a new virtual environment in a temporary folder, and runs the commands from
there with nothing of the checkout on the path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_packaged_sample_equals_sample_data() -> None:
    # One recording, two places: sample_data/ for docs and tests, biofeedback/data/ for the
    # installed demo. scripts/make_sample_data.py writes both.
    a = (ROOT / "sample_data" / "dyad_session.session").read_bytes()
    b = (ROOT / "biofeedback" / "data" / "dyad_session.session").read_bytes()
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest(), (
        "biofeedback/data/dyad_session.session differs from sample_data/: run "
        "`make sample-data` (or copy sample_data/dyad_session.session there)"
    )


def _project_files() -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.mark.slow
def test_wheel_installs_and_runs_the_demo_outside_the_checkout(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to know the project's files")
    pytest.importorskip("build", reason="the dev extra's `build` front end is not installed")
    src = tmp_path / "src"
    for rel in _project_files():
        dst = src / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst)
    dist = tmp_path / "dist"
    env = _clean_env()
    # sdist first, then the wheel built from the unpacked sdist (build's default).
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(src)],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert "biofeedback/data/dyad_session.session" in names
    assert not any(n.startswith(("tests/", "sample_data/")) for n in names)
    with tarfile.open(sdist) as t:
        assert any(n.endswith("biofeedback/data/dyad_session.session") for n in t.getnames())

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    # The test environment's pip installs into the new environment (pip >= 22.3 --python).
    pip = [sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-compile"]
    subprocess.run(
        [*pip, f"{wheel}[ui,ble]"],
        check=True,
        capture_output=True,
        env=env,
        timeout=600,
    )
    exe = venv / ("Scripts" if os.name == "nt" else "bin") / "biofeedback"
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    version = subprocess.run(
        [str(exe), "--version"], cwd=run_dir, env=env, capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip().startswith("biofeedback ")
    demo = subprocess.run(
        [str(exe), "demo", "--no-ui", "--duration", "10", "--speed", "max"],
        cwd=run_dir,
        env={**env, "HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    last = demo.stdout.strip().splitlines()[-1]
    assert last.startswith("dyad_session.session: client ") and "therapist" in last, last
    # The installed package, not the checkout, was imported.
    where = subprocess.run(
        [str(py), "-c", "import biofeedback, hrv; print(biofeedback.__file__, hrv.__file__)"],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where and str(venv) in where
