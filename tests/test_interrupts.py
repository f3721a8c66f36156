"""Stop signals: a long training step stops within seconds, SIGTERM exits 143 with records written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ipt_bench.train.checkpoint import load_checkpoint

SUITE = """\
name: stoppable
profile: smoke
variants: [ipt-tiny-scratch, identity]
tasks:
  denoise: {train_sigmas: [30], datasets: [embedded]}
profiles:
  smoke: {pretrain_steps: 100000, steps: 100000, batch_size: 2}
"""


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()


def test_sigint_during_a_long_step_stops_within_seconds_and_says_what_was_kept(tmp_path: Path) -> None:
    out = tmp_path / "train"
    # a small IPT at batch 32: several seconds per step on a laptop CPU
    argv = [sys.executable, "-m", "ipt_bench", "train", "--variant", "ipt-small-scratch", "--out", str(out)]
    argv += ["--steps", "1000", "--batch-size", "32", "--profile", "smoke"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(out / "spec.json", proc)  # written just before the first step starts
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    stdout, stderr = proc.communicate(timeout=120)
    stopped_after = time.monotonic() - sent
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert "stop requested:" in stderr and "run the same command again" in stderr
    # a step of this size never ends within a second of starting: it is abandoned at a layer
    assert stopped_after < 5.0, (stopped_after, stderr)
    checkpoint = out / "checkpoints" / "last.pt"
    if "nothing kept" in stderr:
        assert not checkpoint.exists()
    else:
        step = int(stderr.split("checkpoint of step ")[1].split()[0])
        assert load_checkpoint(checkpoint)["step"] == step


def test_sigterm_stops_a_suite_run_with_exit_143_and_writes_run_json(tmp_path: Path) -> None:
    suite = tmp_path / "stoppable.yaml"
    suite.write_text(SUITE)
    out = tmp_path / "results"
    argv = [sys.executable, "-m", "ipt_bench", "run", str(suite), "--out", str(out), "--no-report"]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # piped output is not held back: the training node's start line arrives while it trains
    assert proc.stdout is not None
    first = [proc.stdout.readline()]
    while len(first) < 4 and not first[-1].startswith("start"):
        first.append(proc.stdout.readline())
    assert first[0].startswith("profile: smoke"), first
    assert first[-1].startswith("start") and "finetune ipt-tiny-scratch" in first[-1], first
    assert proc.poll() is None
    deadline = time.monotonic() + 180
    while not list(out.glob("nodes/*/train/checkpoints/last.pt")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stdout + stderr
    assert "Traceback" not in stderr and "interrupted" in stdout
    run = json.loads((out / "run.json").read_text())
    assert run["interrupted"] is True and not run["complete"]
    (checkpoint,) = out.glob("nodes/*/train/checkpoints/last.pt")
    assert load_checkpoint(checkpoint)["step"] >= 1


def test_a_second_signal_stops_at_once(tmp_path: Path) -> None:
    script = (
        "import os, signal, sys\n"
        "from ipt_bench.core.runtime import StopRequest\n"
        "with StopRequest() as stop:\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    assert stop.requested and stop.signum == signal.SIGTERM\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "    except KeyboardInterrupt as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Terminated"
