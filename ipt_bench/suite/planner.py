"""Expand a suite into a DAG of content-addressed nodes: pretrain -> finetune -> eval.

A node's key is the stable hash of its full resolved spec, its inputs' keys, the identity of the
datasets it reads and the package version, so equal work gets one key (pre-training shared by
every fine-tune that needs it) and any change gives a new one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ipt_bench
from ipt_bench.core.hashing import sha256_bytes, stable_hash
from ipt_bench.core.tasks import Task, pretrain_tasks
from ipt_bench.eval.spec import EvalSpec
from ipt_bench.suite.plan_bounds import check_before_planning
from ipt_bench.suite.schema import UNTRAINED_VARIANTS, Suite, VariantEntry
from ipt_bench.train.profiles import Profile, get_profile

if TYPE_CHECKING:
    from ipt_bench.models.registry import VariantSpec

NodeKind = Literal["pretrain", "finetune", "eval"]


@dataclass(frozen=True)
class Node:
    """One unit of work. ``spec`` is everything that determines its result (a ``TrainSpec`` or
    ``EvalSpec`` as JSON); ``label`` is the display name of the variant an eval node scores, kept
    out of the key so relabelling re-runs nothing."""

    key: str
    kind: NodeKind
    title: str
    spec: dict[str, Any]
    deps: tuple[str, ...] = ()
    est_seconds: float = 0.0
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (inverse: :meth:`from_json`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Node:
        """Rebuild a node from :meth:`to_json` output."""
        return cls(**{**data, "deps": tuple(data["deps"])})


@dataclass
class Plan:
    """The nodes of one suite under one profile, in a topological order."""

    suite: str
    profile: str
    nodes: dict[str, Node] = field(default_factory=dict)
    fingerprint: str | None = None

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def dependants(self, key: str) -> set[str]:
        """Every node that needs ``key``, directly or not."""
        found: set[str] = set()
        for node in self:  # topological order: a dependant comes after what it needs
            if any(d == key or d in found for d in node.deps):
                found.add(node.key)
        return found

    def to_json(self) -> dict[str, Any]:
        """The plan as written to ``plan.json``."""
        nodes = [n.to_json() for n in self]
        return {"suite": self.suite, "profile": self.profile, "fingerprint": self.fingerprint, "nodes": nodes}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """Inverse of :meth:`to_json`."""
        nodes = [Node.from_json(n) for n in data["nodes"]]
        plan = cls(suite=data["suite"], profile=data["profile"], fingerprint=data.get("fingerprint"))
        plan.nodes = {n.key: n for n in nodes}
        return plan

    def _add(
        self,
        kind: NodeKind,
        title: str,
        spec: dict[str, Any],
        deps: tuple[str, ...],
        est: float,
        label: str = "",
    ) -> str:
        key = stable_hash({"kind": kind, "spec": spec, "deps": list(deps), "version": ipt_bench.__version__})
        if key not in self.nodes:
            node = Node(key=key, kind=kind, title=title, spec=spec, deps=deps, est_seconds=est, label=label)
            self.nodes[key] = node
        return key


def build_plan(suite: Suite, *, profile: str | None = None, allow_partial: bool = False) -> Plan:
    """Expand ``suite`` under ``profile`` (default: the suite's own, ``auto`` resolved) into a
    :class:`Plan`."""
    from ipt_bench.models.family import get_family
    from ipt_bench.models.registry import get_variant

    profile = profile or suite.profile
    if profile == "auto":
        from ipt_bench.suite.profile_choice import choose_profile

        profile = choose_profile(suite, None, None).name
    get_profile(profile)
    check_before_planning(suite, profile)
    plan = Plan(suite=suite.name, profile=profile)
    ctx = _Context(suite, plan, profile, allow_partial)
    profile_size = suite.overrides_for(profile).size
    for entry in suite.variants:
        variant = None if entry.registry_name in UNTRAINED_VARIANTS else get_variant(entry.registry_name)
        if variant is None or not get_family(variant.family).trainable:
            ctx.add_untrained(entry)
            continue
        if profile_size is not None and entry.size is None and profile_size != variant.size:
            entry = entry.model_copy(update={"size": profile_size})
        for seed in suite.seeds_for(profile):
            pre_key = ctx.add_pretrain(entry, seed) if variant.pretrain else None
            for train_tasks in _train_settings(suite):
                ctx.add_finetuned(entry, variant, seed, train_tasks, pre_key)
    if suite.checkpoints is not None:
        ctx.add_official(Path(suite.checkpoints))
    return plan


def plan_fingerprint(suite: Suite, profile: str, allow_partial: bool) -> str | None:
    """A hash of everything a plan is computed from: the suite, the options, this package's code
    and data manifests, and the versions of the libraries it builds on. Equal fingerprints give
    equal plans, so a rerun can reuse ``plan.json`` without importing torch. None when the plan
    also depends on files outside the package (official checkpoints)."""
    if suite.checkpoints is not None:
        return None
    package = Path(ipt_bench.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".tsv", ".yaml", ".csv") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    libraries = {name: _version(name) for name in ("torch", "timm", "scikit-image", "numpy")}
    inputs = {"suite": suite.model_dump(mode="json"), "profile": profile, "allow_partial": allow_partial}
    folders = sorted(
        {d for kind in ("sr", "denoise", "derain") for d in suite.datasets_for(profile, kind) if "/" in d}
    )
    if folders:  # folders of images given by path: the plan depends on their content
        inputs["folders"] = {name: dataset_identity(name) for name in folders}
    return stable_hash({**inputs, "code": digest.hexdigest(), "libraries": libraries})


def train_spec_json(**fields: Any) -> dict[str, Any]:
    """A ``TrainSpec`` as JSON with steps, batch size and lr filled from the profile, so the node
    key changes when a profile does. A spec the runner rejects (e.g. an unknown override) is
    kept unresolved: the node then fails with the runner's message and the rest runs."""
    from ipt_bench.core.errors import ConfigError
    from ipt_bench.train.runner import TrainSpec, resolve_plan

    spec = TrainSpec(**fields)
    try:
        resolved = resolve_plan(spec)
    except ConfigError:
        return spec.to_json()
    full = dataclasses.replace(
        spec,
        tasks=resolved.tasks,
        steps=resolved.steps,
        batch_size=resolved.batch_size,
        lr=resolved.lr,
        contrastive_weight=resolved.contrastive_weight,
        ema=resolved.ema,
    )
    return full.to_json()


def _train_data_label(plan: Plan, pre_key: str | None, finetune_data: str) -> str:
    """What a fine-tuned model was trained on, for its rows: ``pretrain T91, finetune T91``."""
    if pre_key is None:
        return f"finetune {finetune_data}"
    return f"pretrain {plan.nodes[pre_key].spec['data']}, finetune {finetune_data}"


def _variant_overrides(entry: VariantEntry) -> tuple[tuple[str, Any], ...]:
    """The entry's registry overrides as ``TrainSpec.variant_overrides`` (sorted, so keys are stable)."""
    return tuple(sorted(entry.overrides.items()))


def _train_settings(suite: Suite) -> list[tuple[Task, ...]]:
    """One tuple of training tasks per fine-tune (several = one model on mixed noise levels)."""
    settings: list[tuple[Task, ...]] = []
    if suite.tasks.sr:
        settings += [(Task("sr", scale=s),) for s in suite.tasks.sr.scales]
    if suite.tasks.denoise:
        for level in suite.tasks.denoise.train_sigmas:
            levels = level if isinstance(level, tuple) else (level,)
            settings.append(tuple(Task("denoise", sigma=float(s)) for s in levels))
    if suite.tasks.derain:
        settings.append((Task("derain"),))
    return settings


def _test_tasks(suite: Suite, train_tasks: tuple[Task, ...], profile: str) -> list[Task]:
    test_sigmas = suite.test_sigmas_for(profile)
    if train_tasks[0].kind == "denoise" and test_sigmas:
        return [Task("denoise", sigma=float(s)) for s in test_sigmas]
    return list(train_tasks)


def official_checkpoint_name(task: Task) -> str:
    """File name of the official IPT weights for ``task`` (``IPT_sr2.pt``, ``IPT_denoise30.pt``)."""
    if task.kind == "sr":
        return f"IPT_sr{task.scale}.pt"
    if task.kind == "denoise":
        return f"IPT_denoise{float(task.sigma):g}.pt"
    return "IPT_derain.pt"


def train_sigmas_label(tasks: tuple[Task, ...]) -> str | None:
    """``"30"`` or ``"10+20+30"`` for denoising fine-tunes, None otherwise."""
    if tasks[0].kind != "denoise":
        return None
    return "+".join(f"{float(t.sigma):g}" for t in tasks)


def dataset_identity(name: str) -> str:
    """What the dataset's content is pinned by: its manifest's sha256, or the embedded set's source."""
    from ipt_bench.core.errors import DatasetError
    from ipt_bench.data.catalog import get_spec

    try:
        spec = get_spec(name)
    except DatasetError:
        from ipt_bench.data.catalog import resolve_dataset
        from ipt_bench.data.content import folder_fingerprint

        return f"folder:{folder_fingerprint(resolve_dataset(name))}"  # names, sizes, sha256 of its files
    if spec.manifest is not None and spec.manifest.is_file():
        return sha256_bytes(spec.manifest.read_bytes())
    if spec.embedded:
        from ipt_bench.data.embedded import EMBEDDED_SETS

        recipe = stable_hash(EMBEDDED_SETS[spec.name]) if spec.name in EMBEDDED_SETS else spec.name
        return f"embedded:{recipe}:scikit-image {_version('scikit-image')}"
    return f"name:{spec.name}"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@dataclass
class _Context:
    suite: Suite
    plan: Plan
    profile: str
    allow_partial: bool

    @property
    def cost(self) -> Profile:
        """The profile, whose ``step_seconds``/``eval_seconds`` give the dry-run estimates."""
        return get_profile(self.profile)

    def add_untrained(self, entry: VariantEntry) -> None:
        """Bicubic serves super-resolution; identity serves denoising and deraining."""
        seed = self.suite.seeds_for(self.profile)[0]
        for train_tasks in _train_settings(self.suite):
            if (entry.registry_name == "bicubic") != (train_tasks[0].kind == "sr"):
                continue
            for task in _test_tasks(self.suite, train_tasks, self.profile):
                self._add_evals(entry, task, {"seed": seed}, model=entry.registry_name, dep=None)

    def add_pretrain(self, entry: VariantEntry, seed: int) -> str:
        """The pre-training node of ``entry`` (shared with every entry that pre-trains alike)."""
        overrides = self.suite.overrides_for(self.profile)
        levels = entry.pretrain_noise_levels
        fields: dict[str, Any] = {
            "variant": entry.registry_name,
            "stage": "pretrain",
            "tasks": pretrain_tasks(tuple(levels)) if levels else (),
            "profile": self.profile,
            "steps": overrides.pretrain_steps,
            "batch_size": overrides.batch_size,
            "seed": seed,
            "data_fraction": entry.data_fraction or 1.0,
            "contrastive_weight": entry.contrastive_weight,
            "variant_overrides": _variant_overrides(entry),
        }
        fields["data"] = self.suite.train_data.pretrain or self.cost.train_data["pretrain"]
        spec = train_spec_json(**fields)
        cost = (spec["steps"] or 0) * self.cost.step_seconds
        return self.plan._add("pretrain", f"pretrain {entry.display} seed{seed}", spec, (), cost)

    def add_finetuned(
        self,
        entry: VariantEntry,
        variant: VariantSpec,
        seed: int,
        train_tasks: tuple[Task, ...],
        pre_key: str | None,
    ) -> None:
        """A fine-tune node for ``train_tasks`` and its evaluation nodes."""
        overrides = self.suite.overrides_for(self.profile)
        fields: dict[str, Any] = {
            "variant": entry.registry_name,
            "stage": "finetune",
            "tasks": train_tasks,
            "profile": self.profile,
            "steps": overrides.steps,
            "batch_size": overrides.batch_size,
            "seed": seed,
            "variant_overrides": _variant_overrides(entry),
        }
        fields["data"] = self.suite.train_data.finetune or self.cost.train_data[train_tasks[0].kind]
        spec = train_spec_json(**fields)
        names = "+".join(t.name for t in train_tasks)
        title = f"finetune {entry.display} {names} seed{seed}"
        cost = (spec["steps"] or 0) * self.cost.step_seconds
        ft_key = self.plan._add("finetune", title, spec, (pre_key,) if pre_key else (), cost)
        weight = entry.contrastive_weight
        meta = {
            "seed": seed,
            "train_sigmas": train_sigmas_label(train_tasks),
            "contrastive_weight": variant.contrastive_weight if weight is None else weight,
            "data_fraction": entry.data_fraction or 1.0,
            "train_data": _train_data_label(self.plan, pre_key, spec["data"]),
        }
        for task in _test_tasks(self.suite, train_tasks, self.profile):
            self._add_evals(entry, task, meta, model=None, dep=ft_key)

    def add_official(self, folder: Path) -> None:
        """Evaluate each official weight file found in ``folder`` on its own task."""
        entry = VariantEntry(name="ipt-official")
        for train_tasks in _train_settings(self.suite):
            for task in train_tasks:
                weights = folder / official_checkpoint_name(task)
                if not weights.is_file():
                    continue
                stat = weights.stat()  # size + mtime pin the file without hashing ~460 MB
                meta = {
                    "seed": self.suite.seeds_for(self.profile)[0],
                    "weights_size": stat.st_size,
                    "weights_mtime_ns": stat.st_mtime_ns,
                }
                self._add_evals(entry, task, meta, model=None, dep=None, checkpoint=str(weights.resolve()))

    def _add_evals(
        self,
        entry: VariantEntry,
        task: Task,
        meta: dict[str, Any],
        model: str | None,
        dep: str | None,
        checkpoint: str | None = None,
    ) -> None:
        metrics = self.suite.metrics
        cheap = dep is None and checkpoint is None and entry.registry_name in UNTRAINED_VARIANTS
        for dataset in self.suite.datasets_for(self.profile, task.kind):
            spec = EvalSpec(
                task=task.name,
                dataset=dataset,
                model=model,
                checkpoint=checkpoint,
                trained=dep is not None,
                protocols=metrics.protocols(),
                metrics=metrics.names,
                allow_partial=self.allow_partial,
                # Cheap baselines score every image even when the networks score a subset.
                max_images=None if cheap else self.suite.overrides_for(self.profile).max_images,
                dataset_id=dataset_identity(dataset),
                suite=self.suite.name,
                profile=self.profile,
                **meta,
            )
            title = f"eval {entry.display} {task.name} {dataset}"
            if spec.train_sigmas and spec.train_sigmas != f"{float(task.sigma or 0):g}":
                title += f" (trained s{spec.train_sigmas})"
            title += f" seed{spec.seed}" if dep else ""
            deps = (dep,) if dep else ()
            self.plan._add("eval", title, spec.to_json(), deps, self.cost.eval_seconds, label=entry.display)
