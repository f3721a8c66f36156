"""``--executor ray`` against a real local Ray head: same numbers as local; a dead address exits 2."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

SUITE = """\
name: raytiny
profile: smoke
variants: [ipt-tiny-scratch, identity, bicubic]
tasks:
  sr: {scales: [2], datasets: [embedded]}
  denoise: {train_sigmas: [30], datasets: [embedded]}
profiles:
  smoke: {steps: 10, batch_size: 2}
"""
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


def ray_binary() -> str:
    path = Path(sys.executable).with_name("ray")
    if not path.exists() and shutil.which("ray") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("ray is not installed (pip install 'ipt-bench[ray]')")
        pytest.skip("ray is not installed (pip install 'ipt-bench[ray]')")
    return str(path) if path.exists() else str(shutil.which("ray"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    ray = ray_binary()
    port = free_port()
    env = {**os.environ, **RAY_ENV}
    start = [ray, "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false"]
    started = subprocess.run(
        [*start, "--node-ip-address=127.0.0.1", "--disable-usage-stats"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray, "stop", "--force"], env=env, capture_output=True, timeout=120)


def run(suite: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    # Ray gives each 1-CPU task one thread; float sums depend on the thread count, so the local
    # run uses one thread too and the two must then agree exactly
    env = {**os.environ, **RAY_ENV, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "ipt_bench", "run", str(suite), "--out", str(out), "--no-report", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=out.parent, env=env, timeout=600)


def scores(out: Path) -> pd.DataFrame:
    rows = pd.concat([pd.read_parquet(p) for p in (out / "nodes").glob("*/rows.parquet")], ignore_index=True)
    rows = rows.sort_values(["variant", "task", "image"]).reset_index(drop=True)
    return rows.drop(columns=["seconds"])


def test_ray_gives_the_same_results_as_local(tmp_path, ray_head):
    suite = tmp_path / "raytiny.yaml"
    suite.write_text(SUITE)
    on_ray = run(suite, tmp_path / "ray", "--executor", "ray", "--address", ray_head)
    assert on_ray.returncode == 0, on_ray.stdout + on_ray.stderr
    local = run(suite, tmp_path / "local")
    assert local.returncode == 0, local.stdout + local.stderr
    pd.testing.assert_frame_equal(scores(tmp_path / "ray"), scores(tmp_path / "local"))
    again = run(suite, tmp_path / "ray", "--executor", "ray", "--address", ray_head)
    assert again.returncode == 0 and " done " not in again.stdout  # all cached


def test_an_address_that_does_not_answer_is_one_clear_error(tmp_path):
    ray_binary()
    suite = tmp_path / "raytiny.yaml"
    suite.write_text(SUITE)
    done = run(suite, tmp_path / "out", "--executor", "ray", "--address", f"127.0.0.1:{free_port()}")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("error: the Ray head at 127.0.0.1:")
        and "does not answer" in lines[0]
    )
