"""Named training sets: the large ones a suite names but ipt-bench does not ship (ImageNet, DIV2K,
DF2K, RainTrainL) are looked up under the data roots; T91 (staged, with a manifest) and the
embedded crops resolve through the catalog.

A named set is found at ``<data root>/<folder>`` for the first data root that holds images there
(``--data-root``, ``$IPT_BENCH_DATA``, the cache; images are found recursively, any layout).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ipt_bench.core.errors import DatasetError
from ipt_bench.data.datasets import ENV_DATA, IMAGE_SUFFIXES, candidate_roots


@dataclass(frozen=True)
class TrainingSet:
    """A training set looked up by name: its folder under a data root and where it comes from."""

    name: str
    folder: str
    description: str
    source: str


TRAINING_SETS = {
    s.name: s
    for s in (
        TrainingSet(
            "ImageNet", "ImageNet/train", "ILSVRC2012 training images (IPT pre-training)", "image-net.org"
        ),
        TrainingSet(
            "DIV2K",
            "DIV2K/DIV2K_train_HR",
            "DIV2K 800 training HR images (SR fine-tuning)",
            "data.vision.ee.ethz.ch/cvl/DIV2K",
        ),
        TrainingSet(
            "DF2K", "DF2K", "DIV2K + Flickr2K training HR images (SR fine-tuning)", "DIV2K and Flickr2K sites"
        ),
        TrainingSet(
            "RainTrainL",
            "RainTrainL",
            "RainTrainL rainy/clean pairs (deraining fine-tuning)",
            "JORDER / RCDNet releases",
        ),
    )
}


def is_named_training_set(name: str) -> bool:
    """True for a training set looked up by name (not shipped, no manifest)."""
    return name in TRAINING_SETS


def locate_training_set(
    name: str, data_root: str | os.PathLike[str] | None = None, *, role: str = ""
) -> Path:
    """The folder holding the named training set ``name``; a DatasetError in one line naming the
    set, what it is for (``role``) and how to provide it when no data root has it."""
    spec = TRAINING_SETS[name]
    roots = candidate_roots(data_root)
    for _, root in roots:
        folder = root / spec.folder
        if folder.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.rglob("*")):
            return folder
    searched = ", ".join(str(root / spec.folder) for _, root in roots)
    purpose = f" for {role}" if role else ""
    raise DatasetError(
        f"training set {name}{purpose} not found (searched {searched})",
        f"download it from {spec.source} and put its images under <data root>/{spec.folder} "
        f"(--data-root or ${ENV_DATA}), or name a folder of images in the suite's train_data",
    )


def check_training_data(
    data: str, data_root: str | os.PathLike[str] | None = None, *, role: str = ""
) -> None:
    """Raise a one-line DatasetError unless the named training data ``data`` (a named set or a
    catalog name such as T91) can be found; folder paths are left to the training node."""
    if is_named_training_set(data):
        locate_training_set(data, data_root, role=role)
        return
    if Path(data).is_dir() or "/" in data or os.sep in data:
        return  # a folder: read (or reported missing) by the training node itself
    from ipt_bench.data.catalog import resolve_dataset

    try:
        resolve_dataset(data, data_root)
    except DatasetError as exc:
        purpose = f" for {role}" if role else ""
        raise DatasetError(f"training set {data}{purpose}: {exc.problem}", exc.fix) from None
