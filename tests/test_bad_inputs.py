"""Run every bad-input case as a real ``ipt-bench`` command: one clear error line, exit 2,
no traceback, nothing pre-existing modified, no hostile payload executed or extracted.

Most cases run in this process through ``ipt_bench.cli.main.main`` (what the console script
calls), one after the other in their own working folder, environment and captured stdout/stderr;
cases that need process limits run as ``python -m ipt_bench`` subprocesses meanwhile. The
parametrized tests then check one outcome each.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from bad_inputs.cases import CASES
from bad_inputs.makers import SUITE, Case, png

pytestmark = pytest.mark.slow


@dataclass
class Outcome:
    """What one case's command did."""

    done: subprocess.CompletedProcess
    before: dict[str, str]
    after: dict[str, str]
    workspace: Path


def make_workspace(ws: Path, case: Case) -> None:
    """Precious files (a results folder, a checkpoint) plus the case's own files."""
    import pandas as pd
    import torch

    node = ws / "results" / "nodes" / "0123456789abcdef"
    node.mkdir(parents=True)
    (node / "record.json").write_text('{"status": "done"}\n')
    pd.DataFrame({"image": ["a"], "psnr": [30.0], "ssim": [0.9]}).to_parquet(node / "rows.parquet")
    (ws / "ckpt").mkdir()
    torch.save({"w": torch.arange(4.0)}, ws / "ckpt" / "model.pt")
    (ws / "good.yaml").write_text(SUITE)
    (ws / "served").mkdir()
    for rel, content in case.files.items():
        path = ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            content(path)


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _limit_file_size(max_bytes: int | None):
    if max_bytes is None:
        return None

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes then fail with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


def run_cli(argv: list[str], ws: Path, cache: Path, max_file_bytes: int | None = None):
    """``python -m ipt_bench ARGV`` in ``ws`` with its own cache and no data root from the env."""
    env = {k: v for k, v in os.environ.items() if k != "IPT_BENCH_DATA"}
    env.update(IPT_BENCH_CACHE=str(cache), PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1", COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "ipt_bench", *argv],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_file_size(max_file_bytes),
    )


def run_in_process(argv: list[str], ws: Path, cache: Path) -> subprocess.CompletedProcess:
    """``main(ARGV)`` with ``ws`` as working folder, the same environment as :func:`run_cli`, and
    stdout/stderr captured; an escaping exception is reported like the interpreter would."""
    from ipt_bench.cli.main import main

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.pop("IPT_BENCH_DATA", None)
    os.environ.update(IPT_BENCH_CACHE=str(cache), NO_COLOR="1", COLUMNS="200")
    try:
        os.chdir(ws)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except BaseException:
                traceback.print_exc()
                status = 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())


def run_case(case: Case, ws: Path, cache: Path) -> Outcome:
    """Build the workspace, snapshot it, run the command, snapshot again."""
    ws.mkdir(parents=True)
    make_workspace(ws, case)
    before = snapshot(ws)
    needs_server = any("{url}" in a for a in case.argv)
    with serve(ws / "served") if needs_server else contextlib.nullcontext("") as url:
        argv = [a.format(ws=ws, url=url) for a in case.argv]
        if case.isolated:
            done = run_cli(argv, ws, cache, case.max_file_bytes)
        else:
            done = run_in_process(argv, ws, cache)
    return Outcome(done, before, snapshot(ws), ws)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache with the embedded test set already built (so a write limit hits only the command)."""
    from ipt_bench.data.embedded import materialize_embedded

    cache = tmp_path_factory.mktemp("cache")
    materialize_embedded("embedded", cache / "embedded")
    return cache


@pytest.fixture(scope="module")
def outcomes(
    tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, request: pytest.FixtureRequest
) -> Iterator[dict[str, Outcome]]:
    """Every case run once (isolated ones in subprocesses meanwhile); prints the corpus size and
    its run time at the end whatever ``-s`` says."""
    root = tmp_path_factory.mktemp("bad_inputs")
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            case.id: pool.submit(run_case, case, root / case.id, cache_dir) for case in CASES if case.isolated
        }
        results = {case.id: run_case(case, root / case.id, cache_dir) for case in CASES if not case.isolated}
        results |= {key: future.result() for key, future in futures.items()}
    seconds = time.perf_counter() - start
    yield results
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        clean = sum(o.done.returncode == 2 for o in results.values())
        line = f"bad-input corpus: {len(CASES)} cases run, {clean} exited with status 2 in {seconds:.0f} s"
        with capture.global_and_fixture_disabled():  # fd capture would swallow the line otherwise
            reporter.write_line("\n" + line)


def test_the_corpus_is_large_and_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 100
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_fails_cleanly(case: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[case.id]
    done = outcome.done
    assert done.returncode == 2, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    assert re.search(case.error, errors[0]), f"{errors[0]!r} does not match {case.error!r}"
    assert outcome.after == outcome.before, "a failing command created, changed or removed files"
    for rel in case.must_not_exist:
        assert not (outcome.workspace / rel).exists(), f"{rel} exists: the hostile input had an effect"


def test_every_error_line_says_how_to_fix_it(outcomes: dict[str, Outcome]) -> None:
    lines = [
        line for o in outcomes.values() for line in o.done.stderr.splitlines() if line.startswith("error:")
    ]
    without_fix = [line for line in lines if " -- fix: " not in line]
    assert not without_fix


def test_debug_shows_the_traceback(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "bad.yaml").write_text(SUITE + "colour: red\n")
    done = run_cli(["--debug", "run", "bad.yaml", "--out", "results"], tmp_path, cache_dir)
    assert done.returncode == 2
    assert "Traceback" in done.stderr and "error: " in done.stderr


def test_gray_images_are_accepted_not_refused(tmp_path: Path, cache_dir: Path) -> None:
    """8-bit gray test images are used as they are (scored on their one channel), not refused."""
    (tmp_path / "imgs").mkdir()
    png((32, 32), mode="L")(tmp_path / "imgs" / "g.png")
    argv = ["eval", "--task", "sr", "--model", "bicubic", "--dataset", "./imgs", "--json"]
    done = run_cli(argv, tmp_path, cache_dir)
    assert done.returncode == 0, done.stderr
