"""The original bad-input corpus (suite files, datasets, checkpoints, outputs, network); the
other ``cases_*`` modules add a family each and :data:`CASES` gathers them all."""

from __future__ import annotations

from bad_inputs.makers import (
    PICKLE_MARKER,
    SUITE,
    Case,
    pickled_payload,
    png,
    run_suite,
    set5,
    state_dict_file,
    suite_with,
    tar_with,
    truncated,
)

BASE_CASES: tuple[Case, ...] = (
    # --- suite files --------------------------------------------------------------------------
    Case(
        "yaml-syntax",
        run_suite(),
        r"bad\.yaml.*(YAML|yaml|line)",
        {"bad.yaml": "name: tiny\nvariants: [a, b\n"},
    ),
    Case("unknown-key", run_suite(), r"colour", {"bad.yaml": SUITE + "colour: red\n"}),
    Case(
        "unknown-variant-close-match",
        run_suite(),
        r"ipt-tiny-scrach.*ipt-tiny-scratch",
        {"bad.yaml": suite_with("ipt-tiny-scratch", "ipt-tiny-scrach")},
    ),
    Case("wrong-type", run_suite(), r"seeds", {"bad.yaml": SUITE + "seeds: many\n"}),
    Case("zero-steps", run_suite(), r"steps", {"bad.yaml": SUITE + "profiles:\n  smoke: {steps: 0}\n"}),
    Case("negative-steps", run_suite(), r"steps", {"bad.yaml": SUITE + "profiles:\n  smoke: {steps: -5}\n"}),
    Case(
        "sigma-out-of-range",
        run_suite(),
        r"(noise level|sigma).*300",
        {"bad.yaml": suite_with("train_sigmas: [30]", "train_sigmas: [300]")},
    ),
    Case(
        "scale-not-2-3-4",
        run_suite(),
        r"scales",
        {"bad.yaml": SUITE + "  sr: {scales: [5], datasets: [embedded]}\n"},
    ),
    Case(
        "duplicate-variants",
        run_suite(),
        r"unique.*identity",
        {"bad.yaml": suite_with("[ipt-tiny-scratch, identity]", "[identity, identity]")},
    ),
    Case("empty-suite-file", run_suite(), r"bad\.yaml", {"bad.yaml": ""}),
    Case(
        "no-variants",
        run_suite(),
        r"variants",
        {"bad.yaml": suite_with("[ipt-tiny-scratch, identity]", "[]")},
    ),
    Case(
        "unknown-dataset-close-match",
        run_suite(),
        r"Set55.*Set5",
        {"bad.yaml": suite_with("datasets: [embedded]", "datasets: [Set55]")},
    ),
    Case(
        "html-in-suite-name",
        run_suite(),
        r"name",
        {"bad.yaml": suite_with("name: tiny", "name: '<script>alert(1)</script>'")},
    ),
    Case("extends-itself", run_suite(), r"extends itself", {"bad.yaml": "extends: bad.yaml\n" + SUITE}),
    Case(
        "extends-cycle",
        run_suite(),
        r"extends itself.*(a|b)\.yaml",
        {
            "bad.yaml": "extends: a.yaml\n" + SUITE,
            "a.yaml": "extends: b.yaml\n",
            "b.yaml": "extends: a.yaml\n",
        },
    ),
    Case("suite-file-missing", run_suite("nowhere.yaml"), r"nowhere\.yaml"),
    Case(
        "ray-address-not-answering",
        (*run_suite("good.yaml"), "--executor", "ray", "--address", "127.0.0.1:9"),
        r"[Rr]ay",
        {"good.yaml": SUITE},
        isolated=True,
    ),
    Case(
        "out-under-a-regular-file",
        ("run", "good.yaml", "--out", "afile/results", "--no-report"),
        r"afile",
        {"good.yaml": SUITE, "afile": "I am a file, not a folder\n"},
    ),
    # --- datasets and images ------------------------------------------------------------------
    Case(
        "missing-dataset",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "Set5", "--data-root", "empty"),
        r"Set5 not found.*download",
        {"empty/.keep": ""},
    ),
    Case(
        "dataset-missing-files",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "Set5", "--data-root", "data"),
        r"found 4 of 5.*woman.*allow-partial",
        set5(n=4),
    ),
    Case(
        "dataset-extra-files",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "Set5", "--data-root", "data"),
        r"expected 5.*zebra",
        set5(extra="zebra"),
    ),
    Case(
        "dataset-mismatched-files",
        ("data", "verify", "Set5", "--data-root", "data"),
        r"verification failed.*Set5",
        set5(),
    ),
    Case(
        "truncated-png",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "./imgs"),
        r"imgs/a\.png.*(truncated|decode)",
        {"imgs/a.png": truncated(png((64, 64)))},
    ),
    Case(
        "16-bit-png",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "./imgs"),
        r"a\.png.*8 bits",
        {"imgs/a.png": png(mode="I;16")},
    ),
    Case(
        "rgba-with-transparency",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "./imgs"),
        r"a\.png.*transparent.*flatten",
        {"imgs/a.png": png(mode="RGBA", alpha=0)},
    ),
    Case(
        "rainy-clean-size-mismatch",
        (
            "eval",
            "--task",
            "derain",
            "--model",
            "identity",
            "--dataset",
            "Rain100L",
            "--data-root",
            "data",
            "--allow-partial",
            "--no-verify",
        ),
        r"rainy.*clean.*differ",
        {"data/Rain100L/rain/001.png": png((24, 24)), "data/Rain100L/norain/001.png": png((20, 24))},
    ),
    Case(
        "denoise-sigma-out-of-range",
        ("eval", "--task", "denoise", "--model", "identity", "--sigma", "500"),
        r"sigma 500.*range",
    ),
    # --- checkpoints --------------------------------------------------------------------------
    Case(
        "checkpoint-of-another-architecture",
        ("eval", "--task", "sr", "--checkpoint", "other.pt"),
        r"other\.pt",
        {"other.pt": state_dict_file()},
    ),
    Case(
        "checkpoint-with-pickled-object",
        ("eval", "--task", "sr", "--checkpoint", "evil/model.pt"),
        r"model\.pt",
        {"evil/model.pt": pickled_payload()},
        must_not_exist=(f"evil/{PICKLE_MARKER}",),
    ),
    Case(
        "truncated-checkpoint",
        ("eval", "--task", "sr", "--checkpoint", "cut.pt"),
        r"cut\.pt",
        {"cut.pt": truncated(state_dict_file())},
    ),
    Case(
        "train-init-pickled-object",
        (
            "train",
            "--variant",
            "ipt-tiny-scratch",
            "--stage",
            "finetune",
            "--task",
            "sr",
            "--init",
            "evil/model.pt",
            "--out",
            "trained",
            "--steps",
            "1",
        ),
        r"model\.pt",
        {"evil/model.pt": pickled_payload()},
        must_not_exist=(f"evil/{PICKLE_MARKER}",),
    ),
    # --- results, reports, output folders -------------------------------------------------------
    Case(
        "corrupt-parquet-in-results",
        ("report", "broken", "--out", "report"),
        r"rows\.parquet",
        {
            "broken/nodes/abc123/rows.parquet": "PAR1 this is not parquet",
            "broken/nodes/abc123/record.json": "{}",
        },
    ),
    Case(
        "parquet-out-under-a-regular-file",
        ("eval", "--task", "sr", "--model", "bicubic", "--parquet", "afile/rows.parquet"),
        r"afile",
        {"afile": "a file\n"},
    ),
    Case(
        "disk-full-while-writing",
        ("eval", "--task", "sr", "--model", "bicubic-rgb", "--save-images", "restored"),
        r"restored.*(too large|space)",
        max_file_bytes=2048,
        isolated=True,
    ),
    Case(
        "train-zero-steps",
        ("train", "--variant", "ipt-tiny-scratch", "--out", "trained", "--steps", "0"),
        r"steps",
    ),
    Case(
        "train-scale-not-2-3-4",
        (
            "train",
            "--variant",
            "ipt-tiny-scratch",
            "--stage",
            "finetune",
            "--task",
            "sr",
            "--scale",
            "5",
            "--out",
            "trained",
        ),
        r"scale",
    ),
    # --- command line ----------------------------------------------------------------------------
    Case("cli-extra-argument", ("variants", "list"), r"unexpected extra argument.*list"),
    Case("cli-unknown-option", ("eval", "--colour", "red"), r"No such option: --colour"),
    # --- hostile downloads ----------------------------------------------------------------------
    Case(
        "archive-path-traversal",
        ("data", "download", "Set5", "--dest", "downloads", "--url", "{url}/evil.tar"),
        r"evil\.tar|\.\./",
        {"served/evil.tar": tar_with("../../escaped.txt")},
        must_not_exist=("escaped.txt", "../escaped.txt"),
    ),
    Case(
        "archive-symlink",
        ("data", "download", "Set5", "--dest", "downloads", "--url", "{url}/link.tar"),
        r"link|symlink",
        {"served/link.tar": tar_with("Set5/HR/baby.png", symlink_to="/etc/passwd")},
    ),
    Case(
        "download-url-not-answering",
        ("data", "download", "Set5", "--dest", "downloads", "--url", "{url}/missing.tar"),
        r"missing\.tar",
    ),
)


def _all_cases() -> tuple[Case, ...]:
    from bad_inputs import cases_data, cases_models, cases_results, cases_suite

    return (*BASE_CASES, *cases_suite.CASES, *cases_data.CASES, *cases_models.CASES, *cases_results.CASES)


CASES = _all_cases()
