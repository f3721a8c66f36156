"""Protocol presets against the reference scripts' recipes, re-implemented here from their
descriptions (not from ipt-bench code): the official IPT ``utility.calc_psnr`` and BasicSR's
``calculate_psnr`` / ``calculate_ssim`` with ``test_y_channel=True``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ipt_bench.core.errors import ConfigError
from ipt_bench.core.protocols import PRESETS, protocol_label, resolve_protocol
from ipt_bench.core.tasks import Task
from ipt_bench.data.images import read_image
from ipt_bench.data.noise import add_gaussian_noise
from ipt_bench.eval.evaluate import evaluate, evaluate_protocols
from tests.conftest import require_dataset

OFFICIAL_Y = np.array([65.738, 129.057, 25.064]) / 256


def official_calc_psnr(sr: np.ndarray, hr: np.ndarray, scale: int) -> float:
    """IPT ``utility.calc_psnr`` on a quantised output: the loader makes gray HR three-channel;
    ``diff = (sr - hr) / 255``; Y of the diff with the official weights; shave = scale (none at 1)."""
    hr3 = hr if hr.ndim == 3 else np.stack([hr] * 3, axis=2)
    diff = (sr.astype(np.float64) - hr3.astype(np.float64)) / 255.0
    diff = (diff * OFFICIAL_Y).sum(axis=2)
    if scale > 1:
        diff = diff[scale:-scale, scale:-scale]
    return float(-10 * np.log10(np.mean(diff**2)))


def basicsr_psnr_ssim(sr: np.ndarray, hr: np.ndarray, crop: int) -> tuple[float, float]:
    """BasicSR ``calculate_psnr`` / ``calculate_ssim`` (test_y_channel=True) on images read by
    OpenCV: BGR, gray read as three channels; crop first; Y in float32; SSIM by ``filter2D``."""
    hr3 = hr if hr.ndim == 3 else np.stack([hr] * 3, axis=2)
    img, img2 = (x[..., ::-1].astype(np.float64)[crop:-crop, crop:-crop] for x in (sr, hr3))

    def to_y(x: np.ndarray) -> np.ndarray:
        unit = x.astype(np.float32) / 255.0
        y = np.dot(unit, [24.966, 128.553, 65.481]) + 16.0
        return (y / 255.0).astype(np.float32) * 255.0

    y1, y2 = to_y(img), to_y(img2)
    # float32 MSE; the ratio and log in float64 as NumPy 1.x promotes them (NumPy 2 keeps float32,
    # which rounds BasicSR's own result to float32's ~4e-6 dB spacing near 34 dB).
    psnr = 10.0 * np.log10(255.0**2 / float(np.mean((y1 - y2) ** 2)))
    a, b = y1.astype(np.float64), y2.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    kernel = cv2.getGaussianKernel(11, 1.5)
    window = np.outer(kernel, kernel.transpose())
    mu1 = cv2.filter2D(a, -1, window)[5:-5, 5:-5]
    mu2 = cv2.filter2D(b, -1, window)[5:-5, 5:-5]
    s1 = cv2.filter2D(a**2, -1, window)[5:-5, 5:-5] - mu1**2
    s2 = cv2.filter2D(b**2, -1, window)[5:-5, 5:-5] - mu2**2
    s12 = cv2.filter2D(a * b, -1, window)[5:-5, 5:-5] - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s1 + s2 + c2))
    return float(psnr), float(ssim_map.mean())


def _outputs_and_targets(data_root: Path, dataset: str, scale: int, folder: Path, model: str, protocol: str):
    result = evaluate(
        task=Task("sr", scale),
        dataset=dataset,
        model=model,
        protocol=protocol,
        data_root=data_root,
        save_images=folder,
    )
    for row in result.rows:
        hr = read_image(data_root / dataset / "HR" / f"{row['image']}.png")
        hr = hr[: hr.shape[0] - hr.shape[0] % scale, : hr.shape[1] - hr.shape[1] % scale]
        yield row, read_image(folder / f"{row['image']}.png"), hr, result


@pytest.mark.parametrize("model", ["bicubic-rgb", "cnn-tiny"])
@pytest.mark.parametrize(("dataset", "scale"), [("Set5", 2), ("Set14", 2), ("Set14", 4)])
def test_ipt_preset_equals_the_official_calc_psnr_per_image(data_root, tmp_path, model, dataset, scale):
    seen = []
    for row, sr, hr, result in _outputs_and_targets(data_root, dataset, scale, tmp_path, model, "ipt"):  # noqa: B007
        assert abs(row["psnr"] - official_calc_psnr(sr, hr, scale)) < 1e-6, row["image"]
        seen.append(row["image"])
    assert result.protocol["protocol"] == "ipt@1" and result.protocol["gray"] == "replicate"
    if dataset == "Set14":
        assert "bridge" in seen and read_image(data_root / "Set14/HR/bridge.png").ndim == 2


def test_official_weights_differ_from_bt601_beyond_1e6_db(data_root, tmp_path):
    """Why the ``ipt`` preset carries its own Y weights: BT.601 float Y misses by more than 1e-6 dB."""
    rows = list(_outputs_and_targets(data_root, "Set5", 2, tmp_path, "bicubic-rgb", "ipt"))
    bt601 = evaluate(
        task=Task("sr", 2), dataset="Set5", model="bicubic-rgb", data_root=data_root, protocol="basicsr"
    )
    gaps = [abs(a["psnr"] - b["psnr"]) for (a, *_), b in zip(rows, bt601.rows, strict=True)]
    assert 1e-6 < max(gaps) < 1e-3


@pytest.mark.parametrize(("dataset", "scale"), [("Set5", 3), ("Set14", 2)])
def test_basicsr_preset_equals_calculate_psnr_and_ssim_per_image(data_root, tmp_path, dataset, scale):
    for row, sr, hr, _ in _outputs_and_targets(data_root, dataset, scale, tmp_path, "bicubic-rgb", "basicsr"):
        psnr, ssim = basicsr_psnr_ssim(sr, hr, scale)
        assert abs(row["psnr"] - psnr) < 1e-6, row["image"]
        assert abs(row["ssim"] - ssim) < 1e-6, row["image"]


def test_gray_replicated_scores_bridge_higher_than_its_own_y(data_root):
    """Set14 bridge.png is gray: replicated to RGB (IPT, BasicSR) its Y weights sum to 0.859, so it
    scores ~1.3 dB above its own Y (MATLAB); the colour images do not move."""
    own, replicated = evaluate_protocols(
        task=Task("sr", 2),
        dataset="Set14",
        model="bicubic-rgb",
        protocols=(resolve_protocol("matlab", {"y_rounding": "float"}), resolve_protocol("basicsr")),
        data_root=data_root,
    )
    by_name = {r["image"]: r["psnr"] for r in own.rows}
    gap = {r["image"]: r["psnr"] - by_name[r["image"]] for r in replicated.rows}
    assert 1.2 < gap["bridge"] < 1.45
    assert max(abs(v) for k, v in gap.items() if k != "bridge") < 1e-3


def test_official_denoising_input_is_clamped_and_the_input_row_scores_it(data_root):
    """``ipt``: noise clamped to [0, 255], not rounded; the Input row scores that float tensor."""
    root = require_cbsd68()
    result = evaluate(
        task=Task("denoise", sigma=50),
        dataset="CBSD68",
        model="identity",
        protocol="ipt",
        data_root=root,
        max_images=2,
    )
    assert result.protocol["noise_clip"] and not result.protocol["noise_round"]
    assert result.protocol["input"].startswith("noisy float (seeded seed=0, clipped, unrounded")
    for row in result.rows:
        clean = read_image(root / "CBSD68/HR" / f"{row['image']}.png")
        noisy = add_gaussian_noise(clean, 50, mode="seeded", key=f"CBSD68/{row['image']}", clip=True)
        assert noisy.min() >= 0 and noisy.max() <= 1
        want = official_calc_psnr(noisy.astype(np.float32).astype(np.float64) * 255.0, clean, 1)
        assert abs(row["psnr"] - want) < 1e-6
    unclipped = evaluate(
        task=Task("denoise", sigma=50),
        dataset="CBSD68",
        model="identity",
        protocol=resolve_protocol("ipt", {"noise_clip": False}),
        data_root=root,
        max_images=2,
    )
    assert unclipped.mean("psnr") < result.mean("psnr") - 0.1


def require_cbsd68() -> Path:
    return require_dataset("CBSD68")


def test_presets_are_named_versioned_and_overridable():
    assert set(PRESETS) >= {"ipt", "matlab", "basicsr", "kair", "restormer"}
    assert protocol_label(resolve_protocol("ipt")) == "ipt@1"
    custom = resolve_protocol("ipt", {"channel": "rgb", "noise_clip": "false"})
    assert protocol_label(custom) == "ipt@1+channel=rgb+noise_clip=false"
    assert custom.y_formula == "ipt" and not custom.noise_clip
    assert resolve_protocol("kair", {"noise_mode": "legacy"}).noise_mode == "legacy-bgr"
    with pytest.raises(ConfigError, match="unknown protocol preset 'edsr'"):
        resolve_protocol("edsr")
    with pytest.raises(ConfigError, match="unknown protocol switch 'colour'"):
        resolve_protocol("ipt", {"colour": "rgb"})
    with pytest.raises(ConfigError, match="noise_mode cannot be 'bgr'"):
        resolve_protocol("ipt", {"noise_mode": "bgr"})


def test_suites_score_under_the_preset_of_the_numbers_they_compare_against():
    """Table 2 evals carry the official denoising protocol (clamped noise) and KAIR's RGB one."""
    from ipt_bench.eval.spec import EvalSpec
    from ipt_bench.suite.loader import load_suite
    from ipt_bench.suite.planner import build_plan
    from tests.conftest import REPO_ROOT

    plan = build_plan(load_suite(REPO_ROOT / "suites/table2_denoise.yaml"), profile="smoke")
    specs = [EvalSpec.from_json(n.spec) for n in plan.nodes.values() if n.kind == "eval"]
    assert specs and all([p.name for p in s.protocols] == ["ipt", "kair"] for s in specs)
    ipt, kair = specs[0].protocols
    assert ipt.noise_clip and ipt.y_formula == "ipt" and not kair.noise_clip and kair.channel == "rgb"
    table1 = build_plan(load_suite(REPO_ROOT / "suites/table1.yaml"), profile="smoke")
    names = {tuple(p["name"] for p in n.spec["protocols"]) for n in table1.nodes.values() if n.kind == "eval"}
    assert names == {("ipt", "matlab")}


def test_eval_cli_protocol_and_single_switch_overrides(capsys):
    import json

    from ipt_bench.cli.main import main

    root = require_cbsd68()
    args = ["eval", "--model", "identity", "--task", "denoise", "--sigma", "30", "--dataset", "CBSD68"]
    args += ["--data-root", str(root), "--max-images", "1", "--json", "--protocol", "ipt"]
    assert main(args) == 0
    official = json.loads(capsys.readouterr().out)["protocol"]
    assert official["protocol"] == "ipt@1" and official["noise_clip"] and official["y_formula"] == "ipt"
    assert main([*args, "--channel", "rgb", "--switch", "noise_clip=false"]) == 0
    custom = json.loads(capsys.readouterr().out)["protocol"]
    assert custom["protocol"] == "ipt@1+noise_clip=false+channel=rgb"
    assert custom["channel"] == "rgb" and not custom["noise_clip"]
    assert main([*args, "--switch", "gray"]) == 2
    assert "error: --switch 'gray' is not NAME=VALUE" in capsys.readouterr().err


def test_cheap_baselines_score_the_full_set_when_networks_score_a_subset():
    from ipt_bench.eval.spec import EvalSpec
    from ipt_bench.suite.loader import load_suite
    from ipt_bench.suite.planner import build_plan
    from tests.conftest import REPO_ROOT

    plan = build_plan(load_suite(REPO_ROOT / "suites/table2_denoise.yaml"), profile="smoke")
    evals = [(n.label, EvalSpec.from_json(n.spec)) for n in plan.nodes.values() if n.kind == "eval"]
    caps = {label: spec.max_images for label, spec in evals}
    assert caps.pop("identity") is None
    assert caps and set(caps.values()) == {2}, caps


def test_sensitivity_rows_are_differences_from_the_base_preset(data_root):
    from ipt_bench.eval.sensitivity import PUBLISHED_POINT, sensitivity, sensitivity_markdown

    task = Task("sr", 2)
    rows = sensitivity(task=task, datasets=["Set5"], model="bicubic-rgb", data_root=data_root, max_images=1)
    by = {r.variation: r for r in rows}
    base = evaluate(
        task=task, dataset="Set5", model="bicubic-rgb", protocol="ipt", data_root=data_root, max_images=1
    )
    rgb = evaluate(
        task=task,
        dataset="Set5",
        model="bicubic-rgb",
        protocol="ipt",
        channel="rgb",
        data_root=data_root,
        max_images=1,
    )
    assert by["ipt: channel=rgb"].d_psnr == pytest.approx(rgb.psnr - base.psnr, abs=1e-12)
    assert by["preset ipt"].d_psnr == 0 and by["preset matlab"].protocol == "matlab@1"
    assert not any("noise" in v for v in by)  # noise switches cannot move SR scores
    assert "32.415" in PUBLISHED_POINT and "| Set5 | ipt: channel=rgb |" in sensitivity_markdown(
        rows, "t", "ipt"
    )


@pytest.fixture(scope="module")
def trained_tiny_x2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny IPT fine-tuned for x2 for a few steps: a real trained network, not an identity."""
    from ipt_bench.train.runner import TrainSpec, run_training

    out = tmp_path_factory.mktemp("tiny-x2")
    spec = TrainSpec("ipt-tiny-scratch", "finetune", tasks=(Task("sr", 2),), steps=8, batch_size=4, threads=1)
    run_training(spec, out)
    return out


@pytest.mark.parametrize("dataset", ["Set5", "Set14"])
def test_ipt_preset_equals_the_official_calc_psnr_for_a_trained_tiny_model(
    data_root, tmp_path, trained_tiny_x2, dataset
):
    result = evaluate(
        task=Task("sr", 2),
        dataset=dataset,
        checkpoint=trained_tiny_x2,
        task_idx=0,
        protocol="ipt",
        data_root=data_root,
        save_images=tmp_path,
    )
    for row in result.rows:
        hr = read_image(data_root / dataset / "HR" / f"{row['image']}.png")
        hr = hr[: hr.shape[0] - hr.shape[0] % 2, : hr.shape[1] - hr.shape[1] % 2]
        sr = read_image(tmp_path / f"{row['image']}.png")
        assert abs(row["psnr"] - official_calc_psnr(sr, hr, 2)) < 1e-6, row["image"]
    assert len(result.rows) == {"Set5": 5, "Set14": 14}[dataset]
