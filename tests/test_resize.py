"""MATLAB-compatible bicubic imresize: bit-exact against the staged MATLAB LR files, hand-computed
Keys weights, properties, and (if installed) pyiqa's independent port."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipt_bench.core.errors import IptBenchError
from ipt_bench.data.images import read_image
from ipt_bench.data.resize import imresize, mod_crop, round_half_away

# Keys cubic (a = -0.5) at distances 0.25, 0.75, 1.25, 1.75, worked out by hand.
K025, K075, K125, K175 = 0.8671875, 0.2265625, -0.0703125, -0.0234375


@pytest.mark.data
@pytest.mark.parametrize("dataset", ["Set5", "Set14"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_reproduces_every_staged_matlab_lr_file_exactly(data_root: Path, dataset: str, scale: int) -> None:
    hr_files = sorted((data_root / dataset / "HR").glob("*.png"))
    assert len(hr_files) == {"Set5": 5, "Set14": 14}[dataset]
    for hr_path in hr_files:
        expected = read_image(
            data_root / dataset / "LR_bicubic" / f"X{scale}" / f"{hr_path.stem}x{scale}.png"
        )
        produced = imresize(mod_crop(read_image(hr_path), scale), 1.0 / scale)
        assert produced.dtype == np.uint8
        assert produced.shape == expected.shape, hr_path.name
        assert np.array_equal(produced, expected), f"{hr_path.name} x{scale}: max diff " + str(
            np.abs(produced.astype(int) - expected).max()
        )


def test_round_half_away_differs_from_numpy_round_on_ties() -> None:
    ties = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999, -0.49])
    assert round_half_away(ties).tolist() == [-3, -2, -1, 1, 2, 3, 2, 0]
    assert np.round(ties[:6]).tolist() == [-2, -2, 0, 0, 2, 2]


def test_mod_crop_keeps_top_left_multiple_of_scale() -> None:
    comic = np.arange(361 * 250 * 3, dtype=np.int64).reshape(361, 250, 3)  # Set14 comic.png is 250x361
    for scale, (h, w) in {2: (360, 250), 3: (360, 249), 4: (360, 248)}.items():
        cropped = mod_crop(comic, scale)
        assert cropped.shape == (h, w, 3)
        assert np.array_equal(cropped, comic[:h, :w])
    with pytest.raises(IptBenchError, match="positive integer"):
        mod_crop(comic, 0)


def _column_image(values: list[float]) -> np.ndarray:
    """An Hx3 float image whose rows are constant, so the width pass leaves values unchanged."""
    return np.repeat(np.asarray(values, dtype=np.float64)[:, None], 3, axis=1)


def test_upscale_by_two_uses_keys_weights_and_mirrored_border() -> None:
    v = [10.0, 20.0, 50.0, 80.0, 40.0, 30.0]
    out = imresize(_column_image(v), 2.0)
    assert out.shape == (12, 6)
    # Output row 6 (1-based) maps to u = 3.25: taps on input rows 2..5.
    interior = K125 * v[1] + K025 * v[2] + K075 * v[3] + K175 * v[4]
    # Output row 1 maps to u = 0.75: taps on rows -1, 0, 1, 2; rows 0 and -1 mirror to 1 and 2.
    border = K175 * v[1] + K075 * v[0] + K025 * v[0] + K125 * v[1]
    np.testing.assert_allclose(out[5], interior, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out[0], border, rtol=0, atol=1e-12)


def test_downscale_by_two_uses_the_antialiased_kernel() -> None:
    v = np.linspace(0.0, 1.0, 32) ** 2
    out = imresize(_column_image(list(v)), 0.5)
    assert out.shape == (16, 2)
    # Output row 8 (1-based) maps to u = 15.5: kernel 0.5 * cubic(0.5 d) on rows 12..19.
    weights = 0.5 * np.array([K175, K125, K075, K025, K025, K075, K125, K175])
    assert weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(out[7], weights @ v[11:19], rtol=0, atol=1e-12)


def test_uint8_rounds_after_each_pass_float_does_not() -> None:
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (24, 18, 3), dtype=np.uint8)
    as_uint8 = imresize(img, 1 / 3)
    as_float = imresize(img.astype(np.float64), 1 / 3)
    assert as_uint8.dtype == np.uint8 and as_float.dtype == np.float64
    # Height pass first (the width pass at scale 1 is the identity), rounded and saturated, then
    # the width pass: the MATLAB uint8 path. 8/24 and 6/18 are the same double as 1/3.
    height_only = imresize(img.astype(np.float64), output_shape=(8, 18))
    two_pass = imresize(np.clip(round_half_away(height_only), 0, 255), output_shape=(8, 6))
    assert np.array_equal(as_uint8, np.clip(round_half_away(two_pass), 0, 255).astype(np.uint8))
    assert not np.array_equal(as_uint8, np.clip(round_half_away(as_float), 0, 255).astype(np.uint8))


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    value=st.integers(0, 255),
    scale=st.sampled_from([0.25, 1 / 3, 0.5, 0.75, 1.5, 2.0, 3.0, 4.0]),
)
def test_constant_image_stays_constant_with_ceil_size(
    height: int, width: int, value: int, scale: float
) -> None:
    img = np.full((height, width, 3), value, dtype=np.uint8)
    out = imresize(img, scale)
    assert out.shape == (int(np.ceil(height * scale)), int(np.ceil(width * scale)), 3)
    assert np.all(out == value)
    out_float = imresize(img[..., 0].astype(np.float64), scale)
    np.testing.assert_allclose(out_float, value, rtol=0, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(height=st.integers(2, 30), width=st.integers(2, 30), scale=st.sampled_from([2, 3, 4]))
def test_output_shape_round_trip_restores_size_and_range(height: int, width: int, scale: int) -> None:
    rng = np.random.default_rng(height * 100 + width)
    img = rng.integers(0, 256, (height * scale, width * scale), dtype=np.uint8)
    low = imresize(img, 1.0 / scale)
    assert low.shape == (height, width)
    back = imresize(low, output_shape=img.shape)
    assert back.shape == img.shape and back.dtype == np.uint8


def test_bad_arguments_raise_clear_errors() -> None:
    img = np.zeros((8, 8), dtype=np.uint8)
    with pytest.raises(IptBenchError, match="exactly one"):
        imresize(img)
    with pytest.raises(IptBenchError, match="exactly one"):
        imresize(img, 0.5, output_shape=(4, 4))
    with pytest.raises(IptBenchError, match="positive"):
        imresize(img, -2.0)
    with pytest.raises(IptBenchError, match="dtype int32"):
        imresize(img.astype(np.int32), 0.5)
    with pytest.raises(IptBenchError, match="output_shape"):
        imresize(img, output_shape=(0, 4))


def _pyiqa_resize_module() -> ModuleType:
    """pyiqa's MATLAB resize port, loaded alone: importing the whole pyiqa package takes ~20 s."""
    pytest.importorskip("torch")
    spec = importlib.util.find_spec("pyiqa")
    if spec is None or spec.origin is None:
        pytest.skip("pyiqa (optional extra 'iqa') is not installed")
    path = Path(spec.origin).parent / "matlab_utils" / "resize.py"
    module_spec = importlib.util.spec_from_file_location("pyiqa_matlab_resize", path)
    if module_spec is None or module_spec.loader is None or not path.is_file():
        pytest.skip(f"pyiqa has no {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # the first call imports torch (~7 s on 2 cores)
@pytest.mark.parametrize("scale", [0.25, 1 / 3, 0.5, 2.0, 3.0, 4.0])
def test_float_path_agrees_with_pyiqa_port(scale: float) -> None:
    import torch

    pyiqa_resize = _pyiqa_resize_module()
    img = np.random.default_rng(3).random((37, 41, 3))
    ours = imresize(img, scale)
    theirs = pyiqa_resize.imresize(torch.from_numpy(img).permute(2, 0, 1), scale=scale)
    np.testing.assert_allclose(ours, theirs.permute(1, 2, 0).double().numpy(), rtol=0, atol=1e-5)
