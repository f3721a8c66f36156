"""The suite file format: a pydantic v2 model of one benchmark study.

A suite names variants (optionally with overrides), tasks with their datasets and noise levels,
seeds, the metric protocol, per-profile step/batch overrides and the report it feeds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Variants that need no training (evaluated directly); bicubic serves SR, identity the others.
UNTRAINED_VARIANTS = ("bicubic", "identity")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class VariantEntry(_Strict):
    """A registry variant, optionally with overrides and a label naming the result; or, with
    ``base``, a variant defined inline: ``{name: ipt-small-l4, base: ipt-small-con, num_layers: 4}``
    (every key besides the fields below is an architecture option of the base's family)."""

    name: str
    base: str | None = None
    arch: dict[str, int | float | bool] = Field(default_factory=dict)
    label: str | None = None
    contrastive_weight: float | None = Field(default=None, ge=0)
    pretrain_noise_levels: tuple[float, ...] | None = None
    data_fraction: float | None = Field(default=None, gt=0, le=1)
    size: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _inline_arch(cls, data: object) -> object:
        """With ``base``, keys that are not fields are architecture options."""
        if isinstance(data, dict) and data.get("base") is not None:
            known = set(cls.model_fields)
            arch = {k: v for k, v in data.items() if k not in known}
            if arch:
                data = {k: v for k, v in data.items() if k in known}
                data["arch"] = {**data.get("arch", {}), **arch}
        return data

    @model_validator(mode="after")
    def _arch_needs_base(self) -> VariantEntry:
        if self.arch and self.base is None:
            raise ValueError("architecture options need 'base:' (the registry variant they change)")
        return self

    @property
    def registry_name(self) -> str:
        """The registry variant this entry trains: ``base`` for inline variants, else ``name``."""
        return self.base or self.name

    @property
    def overrides(self) -> dict[str, object]:
        """The overridden registry fields and architecture options (``data_fraction`` belongs to
        the pre-training run)."""
        fields = ("contrastive_weight", "pretrain_noise_levels", "size")
        return {**{f: getattr(self, f) for f in fields if getattr(self, f) is not None}, **self.arch}

    @property
    def display(self) -> str:
        """The label used in results: ``label`` if given, the name of an inline variant, else the
        name plus its overrides."""
        if self.label:
            return self.label
        if self.base is not None:
            return self.name
        parts = {**self.overrides}
        if self.data_fraction is not None:
            parts["data_fraction"] = self.data_fraction
        if not parts:
            return self.name
        inner = ",".join(f"{k}={_short(v)}" for k, v in sorted(parts.items()))
        return f"{self.name}[{inner}]"


def _short(value: object) -> str:
    if isinstance(value, tuple):
        return "+".join(f"{v:g}" for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


class SrTasks(_Strict):
    """Super-resolution at the given scales, tested on the given datasets."""

    scales: tuple[Literal[2, 3, 4], ...] = Field(min_length=1)
    datasets: tuple[str, ...] = Field(min_length=1)


class DenoiseTasks(_Strict):
    """Denoising: one fine-tune per entry of ``train_sigmas`` (a number, or a list = mixed levels),
    each tested at every ``test_sigmas`` level (default: at its own training levels)."""

    train_sigmas: tuple[float | tuple[float, ...], ...] = Field(min_length=1)
    test_sigmas: tuple[float, ...] | None = Field(default=None, min_length=1)
    datasets: tuple[str, ...] = Field(min_length=1)

    @field_validator("train_sigmas", "test_sigmas")
    @classmethod
    def _in_range(cls, values: tuple | None) -> tuple | None:
        return check_noise_levels(values)


def check_profile_name(name: str) -> str:
    """``name`` if it is a registered training profile (pydantic error otherwise)."""
    from ipt_bench.train.profiles import PROFILES

    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; use one of {', '.join(PROFILES.names())}")
    return name


def check_noise_levels(values: tuple | None) -> tuple | None:
    """``values`` (levels, or tuples of levels) if every level lies in (0, 100]."""
    if values is None:
        return values
    if any(isinstance(v, tuple) and not v for v in values):
        raise ValueError("a mixed-noise entry lists no levels (an empty list)")
    flat = [s for v in values for s in (v if isinstance(v, tuple) else (v,))]
    bad = [s for s in flat if not 0 < s <= 100]
    if bad:
        raise ValueError(f"noise levels must lie in (0, 100] on the 0-255 scale, got {bad}")
    return values


class DerainTasks(_Strict):
    """Deraining, tested on the given datasets."""

    datasets: tuple[str, ...] = Field(min_length=1)


class TaskBlock(_Strict):
    """The tasks of a suite; at least one of sr, denoise, derain."""

    sr: SrTasks | None = None
    denoise: DenoiseTasks | None = None
    derain: DerainTasks | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> TaskBlock:
        if self.sr is None and self.denoise is None and self.derain is None:
            raise ValueError("declare at least one task: sr, denoise or derain")
        return self


class Metrics(_Strict):
    """The scoring protocol: one preset or several (``protocol: [ipt, matlab]``: each image is
    restored once and scored under each), single switches overriding every listed preset, and
    the registered metrics to score (``ipt-bench metrics`` lists them)."""

    protocol: tuple[str, ...] = ("matlab",)
    channel: Literal["y", "rgb"] | None = None
    y_formula: Literal["bt601", "bt601-f32", "ipt"] | None = None
    y_rounding: Literal["round", "float"] | None = None
    gray: Literal["own", "replicate"] | None = None
    border: Literal["scale"] | int | None = None
    noise_mode: Literal["legacy-bgr", "legacy-rgb", "seeded"] | None = None
    noise_clip: bool | None = None
    noise_round: bool | None = None
    lr_source: Literal["matlab-bicubic", "dataset"] | None = None
    ssim_variant: Literal["valid", "valid-downsample"] | None = None
    names: tuple[str, ...] = Field(default=("psnr", "ssim"), min_length=1)

    @field_validator("protocol", mode="before")
    @classmethod
    def _preset_names(cls, value: object) -> object:
        from ipt_bench.core.errors import ConfigError
        from ipt_bench.core.protocols import get_preset

        names = (value,) if isinstance(value, str) else value
        try:
            for name in names:  # type: ignore[union-attr]
                get_preset(name)
        except ConfigError as exc:
            raise ValueError(f"{exc.problem} ({exc.fix})") from None
        return names

    def protocols(self):
        """The :class:`~ipt_bench.core.protocols.Protocol` of every listed preset with the overrides."""
        from ipt_bench.core.protocols import SWITCHES, resolve_protocol

        overrides = {s: getattr(self, s) for s in SWITCHES}
        return tuple(resolve_protocol(name, overrides) for name in self.protocol)

    @field_validator("names")
    @classmethod
    def _registered(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        from ipt_bench.core.errors import ConfigError
        from ipt_bench.metrics.registry import check_metric_names

        try:
            return check_metric_names(names)
        except ConfigError as exc:
            raise ValueError(f"{exc.problem} ({exc.fix})") from None


class StageOverrides(_Strict):
    """Per-profile changes: the training schedule, the model size of trained variants (recorded
    in their result names, e.g. ``ipt-small-con[size=tiny]``), a cap on the images scored per
    dataset (the first N in sorted order; recorded in every row's ``subset``), the seeds, the
    denoising test levels and a subset of the suite's test datasets (each recorded in every row)."""

    steps: int | None = Field(default=None, gt=0)
    pretrain_steps: int | None = Field(default=None, gt=0)
    batch_size: int | None = Field(default=None, gt=0)
    size: Literal["paper", "small", "tiny"] | None = None
    max_images: int | None = Field(default=None, gt=0)
    seeds: tuple[int, ...] | None = Field(default=None, min_length=1)
    test_sigmas: tuple[float, ...] | None = Field(default=None, min_length=1)
    datasets: tuple[str, ...] | None = Field(default=None, min_length=1)

    @field_validator("test_sigmas")
    @classmethod
    def _sigmas_in_range(cls, values: tuple | None) -> tuple | None:
        return check_noise_levels(values)

    @field_validator("seeds")
    @classmethod
    def _unique_seeds(cls, seeds: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if seeds is not None and len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be unique, got {list(seeds)}")
        return seeds


class ReportRef(_Strict):
    """The report this suite feeds; ``kind`` names a registered report kind (its tables and
    figures), checked by ``ipt-bench run`` before anything runs."""

    name: str
    kind: str


class TrainData(_Strict):
    """Training sets for the two stages (the runner's defaults when absent)."""

    pretrain: str | None = None
    finetune: str | None = None


class Suite(_Strict):
    """One benchmark study."""

    name: str
    description: str = ""
    #: ``auto``: ``paper`` where it can run, else ``cpu`` (suite/profile_choice.py).
    profile: str = "auto"
    variants: tuple[VariantEntry, ...] = Field(min_length=1)
    tasks: TaskBlock
    seeds: tuple[int, ...] = Field(default=(0,), min_length=1)
    metrics: Metrics = Metrics()
    profiles: dict[str, StageOverrides] = Field(default_factory=dict)
    train_data: TrainData = TrainData()
    #: experiment trackers for the training nodes (``--track`` overrides); results are unchanged
    track: tuple[Literal["tensorboard"], ...] = ()
    report: ReportRef | None = None
    #: A folder of official IPT weights (IPT_sr2.pt, IPT_denoise30.pt, IPT_derain.pt, ...): each one
    #: found is evaluated as variant ``ipt-official`` on the matching tasks.
    checkpoints: Path | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not _SLUG.match(name):
            raise ValueError("use lowercase letters, digits, '-', '_' or '.' (it names folders)")
        return name

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, name: str) -> str:
        return name if name == "auto" else check_profile_name(name)

    @field_validator("profiles")
    @classmethod
    def _known_profiles(cls, profiles: dict[str, StageOverrides]) -> dict[str, StageOverrides]:
        for name in profiles:
            check_profile_name(name)
        return profiles

    @field_validator("variants", mode="before")
    @classmethod
    def _names_to_entries(cls, values: object) -> object:
        if isinstance(values, list):
            return [{"name": v} if isinstance(v, str) else v for v in values]
        return values

    @model_validator(mode="after")
    def _unique_labels(self) -> Suite:
        labels = [v.display for v in self.variants]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"variant labels must be unique, repeated: {dupes}; add 'label:' to each")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be unique, got {list(self.seeds)}")
        declared = {
            d
            for block in (self.tasks.sr, self.tasks.denoise, self.tasks.derain)
            if block
            for d in block.datasets
        }
        for name, overrides in self.profiles.items():
            unknown = sorted(set(overrides.datasets or ()) - declared)
            if unknown:
                raise ValueError(
                    f"profile {name!r} lists datasets {unknown} that no task declares; "
                    f"a profile may only narrow the suite's datasets ({sorted(declared)})"
                )
            if overrides.test_sigmas and self.tasks.denoise is None:
                raise ValueError(f"profile {name!r} sets test_sigmas but the suite has no denoise task")
        return self

    def overrides_for(self, profile: str) -> StageOverrides:
        """The step/batch overrides for ``profile`` (none when the suite gives none)."""
        return self.profiles.get(profile, StageOverrides())  # type: ignore[call-overload]

    def seeds_for(self, profile: str) -> tuple[int, ...]:
        """The seeds run under ``profile``: the profile's own, else the suite's."""
        return self.overrides_for(profile).seeds or self.seeds

    def test_sigmas_for(self, profile: str) -> tuple[float, ...] | None:
        """The denoising test levels under ``profile``: the profile's own, else the suite's."""
        denoise = self.tasks.denoise
        return self.overrides_for(profile).test_sigmas or (denoise.test_sigmas if denoise else None)

    def datasets_for(self, profile: str, kind: str) -> tuple[str, ...]:
        """The test datasets of task ``kind`` under ``profile`` (a profile may narrow them)."""
        block = getattr(self.tasks, kind)
        narrowed = self.overrides_for(profile).datasets
        names = block.datasets if block else ()
        return tuple(d for d in names if narrowed is None or d in narrowed)
