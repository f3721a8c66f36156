"""Training plans its peak memory: the plan bounds the measured peak RSS of real CPU steps, and a
step that cannot fit (the paper recipe on a laptop) is refused in one line before allocating."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from ipt_bench.models.memory import GIB
from ipt_bench.models.registry import get_variant
from ipt_bench.train.memory_plan import check_step_fits, plan_step_memory
from tests.test_memory_plan import RSS_HELPERS

MEASURE_STEP = RSS_HELPERS + textwrap.dedent(
    """
    import torch
    from ipt_bench.models.registry import get_variant
    from ipt_bench.train.losses import restoration_loss

    name, batch, contrastive = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    torch.set_num_threads(1)
    torch.manual_seed(0)
    variant = get_variant(name)
    patch = variant.model_kwargs([2]).get("patch_size", 48)
    before = start()
    model = variant.build_model([2])
    optimizer = torch.optim.Adam(model.parameters())
    x = torch.rand(batch, 3, patch, patch) * 255
    y = torch.rand(batch, 3, 2 * patch, 2 * patch) * 255
    out, tokens = model(x, 0, return_tokens=True) if contrastive else (model(x, 0), None)
    loss = restoration_loss(out, y, tokens, 0.1 if contrastive else 0.0).total
    loss.backward()
    optimizer.step()
    print(json.dumps({"peak": growth(before)}))
    """
)


def _measured_peak(name: str, batch: int, contrastive: bool) -> int:
    argv = [sys.executable, "-c", MEASURE_STEP, name, str(batch), "1" if contrastive else "0"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    if "skip" in facts:
        pytest.skip(facts["skip"])
    return facts["peak"]


@pytest.mark.parametrize(
    ("name", "batch", "contrastive"),
    [("ipt-tiny-con", 16, True), ("ipt-small-scratch", 8, False)],
)
def test_the_plan_bounds_the_measured_peak_of_a_real_step(name: str, batch: int, contrastive: bool) -> None:
    variant = get_variant(name)
    patch = variant.model_kwargs([2])["patch_size"]
    planned = plan_step_memory(variant, [2], batch, patch, contrastive, ema=False).total
    measured = _measured_peak(name, batch, contrastive)
    print(f"{name} batch {batch}: measured {measured / 2**20:.0f} MiB, planned {planned / 2**20:.0f} MiB")
    assert measured <= planned < 3 * measured


def test_the_contrastive_similarity_matrix_is_counted() -> None:
    variant = get_variant("ipt-small-con")
    memory = plan_step_memory(variant, [2], 64, 48, contrastive=True, ema=False)
    tokens = 64 * (48 // 3) ** 2  # batch x tokens per image
    assert memory.contrastive >= 4 * tokens**2  # at least one float32 (B N)^2 matrix is kept
    quadrupled = plan_step_memory(variant, [2], 128, 48, contrastive=True, ema=False)
    assert quadrupled.contrastive >= 3.5 * memory.contrastive  # quadratic in the batch


def test_the_paper_recipe_on_a_small_machine_is_refused_before_allocating() -> None:
    memory = plan_step_memory(get_variant("ipt-paper-con"), [2], 256, 48, contrastive=True, ema=False)
    assert memory.contrastive >= 4 * (256 * 256) ** 2  # a float32 (256 images x 256 tokens)^2 matrix
    assert memory.total > 300 * GIB
    with pytest.raises(Exception, match=r"needs about .* GiB .* budget on cpu is 16.00 GiB") as info:
        check_step_fits(memory, 256, "cpu", budget=16 * GIB)
    assert "--batch-size" in str(info.value)


def test_cli_refuses_the_paper_profile_step_in_one_line(tmp_path) -> None:
    argv = [sys.executable, "-m", "ipt_bench", "train", "--variant", "ipt-paper-con", "--profile", "paper"]
    argv += ["--out", str(tmp_path / "out"), "--steps", "1"]
    began = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1, done.stderr
    assert "contrastive loss's similarity matrices" in errors[0]
    assert not (tmp_path / "out").exists()
    print(f"refused in {time.monotonic() - began:.1f} s")
