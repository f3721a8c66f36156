"""Suite files the YAML loader and the planner must refuse with one line: YAML features beyond
plain values (aliases, merge keys, tags, dates, odd keys), size bounds, degenerate values."""

from __future__ import annotations

from pathlib import Path

from bad_inputs.makers import SUITE, Case, run_suite, suite_with

PWNED = "PWNED-yaml"


def _bomb() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
    return "\n".join(lines) + "\n" + SUITE


def _many_seeds(path: Path) -> None:
    path.write_text(SUITE + "seeds: [" + ", ".join(str(i) for i in range(20000)) + "]\n")


def _huge(path: Path) -> None:
    path.write_text(SUITE + ("# padding\n" * 120_000))


def _not_utf8(path: Path) -> None:
    path.write_bytes(SUITE.replace("tiny", "t\xe9").encode("latin-1"))


def _nested(depth: int) -> str:
    return SUITE + "seeds: " + "[" * depth + "1" + "]" * depth + "\n"


CASES: tuple[Case, ...] = (
    Case(
        "yaml-recursive-alias",
        run_suite(),
        r"alias refers to a value that contains it",
        {"bad.yaml": "name: &n [*n]\n"},
    ),
    Case("yaml-alias-bomb", run_suite(), r"more than 100000 values", {"bad.yaml": _bomb()}),
    Case(
        "yaml-merge-of-a-list",
        run_suite(),
        r"'<<' merges mappings only",
        {"bad.yaml": SUITE + "profiles:\n  smoke:\n    <<: [1, 2]\n"},
    ),
    Case(
        "yaml-merge-into-itself",
        run_suite(),
        r"merges a mapping into itself",
        {"bad.yaml": SUITE + "profiles: &p\n  <<: *p\n"},
    ),
    Case(
        "yaml-merge-brings-unknown-key",
        run_suite(),
        r"colour",
        {"bad.yaml": "x-base: &base {colour: red}\n" + SUITE + "profiles:\n  smoke:\n    <<: *base\n"},
    ),
    Case("yaml-integer-key", run_suite(), r"key '1' is read as a int", {"bad.yaml": SUITE + "1: one\n"}),
    Case("yaml-boolean-key", run_suite(), r"key 'yes' is read as a bool", {"bad.yaml": SUITE + "yes: 1\n"}),
    Case("yaml-list-as-key", run_suite(), r"key must be a name", {"bad.yaml": SUITE + "? [a, b]\n: 1\n"}),
    Case("yaml-timestamp-seed", run_suite(), r"seeds", {"bad.yaml": SUITE + "seeds: [2021-01-01]\n"}),
    Case(
        "yaml-invalid-date-as-sigma",
        run_suite(),
        r"train_sigmas",
        {"bad.yaml": suite_with("train_sigmas: [30]", "train_sigmas: [2021-02-30]")},
    ),
    Case(
        "yaml-python-tag",
        run_suite(),
        r"cannot read this value.*python",
        {"bad.yaml": SUITE + f"label: !!python/object/apply:os.system ['touch {PWNED}']\n"},
        must_not_exist=(PWNED,),
    ),
    Case(
        "yaml-unknown-tag",
        run_suite(),
        r"cannot read this value.*!foo",
        {"bad.yaml": SUITE + "seeds: !foo 1\n"},
    ),
    Case(
        "yaml-binary-value",
        run_suite(),
        r"a bytes value .*binary.* is not allowed",
        {"bad.yaml": suite_with("name: tiny", "name: !!binary aGVsbG8=")},
    ),
    Case("yaml-too-large", run_suite(), r"more than the 1048576 allowed", {"bad.yaml": _huge}),
    Case("yaml-nested-too-deep", run_suite(), r"nested (more than 64|too) deep", {"bad.yaml": _nested(80)}),
    Case("yaml-two-documents", run_suite(), r"invalid YAML", {"bad.yaml": SUITE + "---\nname: other\n"}),
    Case("yaml-not-utf8", run_suite(), r"not UTF-8", {"bad.yaml": _not_utf8}),
    Case("yaml-top-level-list", run_suite(), r"must be a mapping", {"bad.yaml": "- name\n- tiny\n"}),
    Case("suite-is-a-folder", run_suite("afolder"), r"afolder.*not a regular file", {"afolder/x.txt": "x\n"}),
    # --- degenerate planning values -------------------------------------------------------------
    Case(
        "empty-mixed-noise-entry",
        run_suite(),
        r"lists no levels",
        {"bad.yaml": suite_with("train_sigmas: [30]", "train_sigmas: [[]]")},
    ),
    Case(
        "nan-noise-level",
        run_suite(),
        r"train_sigmas",
        {"bad.yaml": suite_with("train_sigmas: [30]", "train_sigmas: [.nan]")},
    ),
    Case(
        "infinite-contrastive-weight",
        run_suite(),
        r"contrastive_weight",
        {
            "bad.yaml": suite_with(
                "[ipt-tiny-scratch, identity]", "[{name: ipt-tiny-con, contrastive_weight: .inf}]"
            )
        },
    ),
    Case(
        "nan-data-fraction",
        run_suite(),
        r"data_fraction",
        {
            "bad.yaml": suite_with(
                "[ipt-tiny-scratch, identity]", "[{name: ipt-tiny-con, data_fraction: .nan}]"
            )
        },
    ),
    Case(
        "twenty-thousand-seeds",
        run_suite(),
        r"about \d+ nodes.*more than the 5000",
        {"bad.yaml": _many_seeds},
    ),
    Case(
        "billion-batch-size",
        run_suite(),
        r"batch-size 1000000000 needs at least",
        {"bad.yaml": SUITE + "profiles:\n  smoke: {batch_size: 1000000000}\n"},
    ),
    Case(
        "checkpoints-folder-missing",
        run_suite(),
        r"checkpoints: folder nowhere does not exist",
        {"bad.yaml": SUITE + "checkpoints: nowhere\n"},
    ),
    Case(
        "folder-dataset-missing",
        run_suite(),
        r"no-such-folder does not exist",
        {"bad.yaml": suite_with("datasets: [embedded]", "datasets: [./no-such-folder]")},
    ),
    Case("unknown-profile-option", ("run", "good.yaml", "--profile", "turbo", "--no-report"), r"turbo"),
    Case("zero-jobs", ("run", "good.yaml", "--jobs", "0", "--no-report"), r"--jobs 0"),
    Case("zero-threads", ("run", "good.yaml", "--threads", "0", "--no-report"), r"threads"),
    Case(
        "force-unknown-prefix", ("run", "good.yaml", "--force", "zzzz", "--out", "results"), r"--force zzzz"
    ),
)
