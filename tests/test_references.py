"""Reference numbers: transcribed faithfully, every row sourced, no duplicates."""

from __future__ import annotations

import pytest

from ipt_bench.report.references import KEY_COLUMNS, REFERENCE_COLUMNS, STATUSES, load_references

# IPT paper Table 1 / official README, as given in the assignment (independent of the CSV).
IPT_TABLE1 = {
    2: (38.37, 34.43, 32.48, 33.76),
    3: (34.81, 30.85, 29.38, 29.49),
    4: (32.64, 29.01, 27.82, 27.26),
}


@pytest.fixture(scope="module")
def refs():
    return load_references()


def value(refs, **where) -> float:
    mask = True
    for column, wanted in where.items():
        mask = mask & (refs[column] == wanted)
    picked = refs[mask]
    assert len(picked) == 1, f"{where} matched {len(picked)} rows"
    return float(picked["value"].iloc[0])


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_ipt_table1_row(refs, scale):
    for dataset, expected in zip(("Set5", "Set14", "B100", "Urban100"), IPT_TABLE1[scale], strict=True):
        got = value(
            refs, table="table1_sr", method="IPT", task=f"sr_x{scale}", dataset=dataset, metric="psnr"
        )
        assert got == pytest.approx(expected, abs=1e-9)


def test_table1_has_every_method_and_cell(refs):
    t1 = refs[refs["table"] == "table1_sr"]
    methods = {"VDSR", "EDSR", "RCAN", "RDN", "OISR-RK3", "RNAN", "SAN", "HAN", "IGNN", "IPT"}
    assert set(t1["method"]) == methods
    assert len(t1) == len(methods) * 12
    assert (t1["channel"] == "y").all() and t1["value"].between(25, 39).all()


def test_every_row_has_source_and_known_status(refs):
    assert list(refs.columns[: len(REFERENCE_COLUMNS)]) == list(REFERENCE_COLUMNS)
    assert (refs["source"].str.strip() != "").all()
    assert refs["status"].isin(STATUSES).all()
    assert refs["metric"].isin(["psnr", "ssim"]).all()
    assert refs["channel"].isin(["y", "rgb"]).all()


def test_no_duplicate_keys(refs):
    duplicated = refs[refs.duplicated(list(KEY_COLUMNS), keep=False)]
    assert duplicated.empty, duplicated[list(KEY_COLUMNS)]


def test_table2_channels_and_verified_cells(refs):
    t2 = refs[refs["table"] == "table2_denoise"]
    assert set(t2.loc[t2["method"] == "IPT", "channel"]) == {"y"}
    assert set(t2.loc[t2["method"] != "IPT", "channel"]) == {"rgb"}
    verified = t2[t2["status"] == "verified"].set_index("method")["value"].to_dict()
    assert verified == {"IPT": 29.88, "FFDNet": 27.96}
    # SADNet has no Urban100 numbers in the paper: kept as N/A, not dropped.
    sadnet = t2[(t2["method"] == "SADNet") & (t2["dataset"] == "Urban100")]
    assert len(sadnet) == 2 and sadnet["value"].isna().all()


def test_table3_input_row_and_unconfirmed_marks(refs):
    assert value(refs, table="table3_derain", method="Input", metric="psnr") == 26.90
    assert value(refs, table="table3_derain", method="Input", metric="ssim") == 0.8384
    assert value(refs, table="table3_derain", method="IPT", metric="psnr") == 41.62
    t3 = refs[refs["table"] == "table3_derain"]
    assert (t3.loc[t3["metric"] == "ssim", "status"] == "unconfirmed").all()


def test_reproductions_and_dpir(refs):
    kw = {"table": "reproduction", "method": "IPT official ckpt (PyTorch code)", "task": "denoise_s30"}
    assert value(refs, **kw, channel="y") == 32.415
    assert value(refs, **kw, channel="rgb") == 30.748
    drunet_y = [
        value(refs, table="dpir", method="DRUNet", channel="y", dataset=d, sigma=s)
        for d, s in (("CBSD68", 30), ("CBSD68", 50), ("Urban100", 30), ("Urban100", 50))
    ]
    assert drunet_y == [32.44, 30.09, 33.93, 31.57]


def test_lambda_ablation_matches_table1(refs):
    lam = refs[refs["table"] == "lambda_ablation"].sort_values("contrastive_weight")
    assert lam["contrastive_weight"].tolist() == [0, 0.05, 0.1, 0.2, 0.5]
    best = lam.loc[lam["value"].idxmax()]
    assert best["contrastive_weight"] == 0.1
    assert best["value"] == value(refs, table="table1_sr", method="IPT", task="sr_x2", dataset="Set5")
    assert (lam.loc[lam["contrastive_weight"] != 0.1, "status"] == "unconfirmed").all()


def test_bicubic_baselines_are_unconfirmed(refs):
    bic = refs[refs["table"] == "bicubic_sr"]
    assert len(bic) == 3 * 4 * 2 and (bic["status"] == "unconfirmed").all()
    assert value(refs, table="bicubic_sr", task="sr_x2", dataset="Set5", metric="psnr") == 33.66
    assert value(refs, table="bicubic_sr", task="sr_x4", dataset="Urban100", metric="ssim") == 0.6577
