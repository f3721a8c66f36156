"""Evaluation protocol presets: named, versioned sets of every scoring and degradation switch.

Each published number was measured by one script; a preset fixes the switches of one of them, so a
result scored under it can be put beside that number. Every switch can be overridden on its own;
the row then records the preset name with the overrides (``ipt+channel=rgb``) and every switch.

Switches (values in :data:`SWITCH_VALUES`):

- ``channel``: ``y`` (BT.601 luma) or ``rgb``.
- ``y_formula``: ``bt601`` (``16 + (65.481 R + 128.553 G + 24.966 B) / 255``, float64),
  ``bt601-f32`` (the same in float32, as BasicSR's ``to_y_channel`` computes it) or ``ipt`` (the
  official IPT code: ``[65.738, 129.057, 25.064] / 256`` applied to the difference; these weights
  differ from BT.601's by ~3e-6 relative, about 2e-5 dB).
- ``y_rounding``: ``round`` (MATLAB ``rgb2ycbcr`` on uint8) or ``float``.
- ``gray``: ``own`` (a gray image is its own Y / its single channel) or ``replicate`` (copied to
  three channels by the loader, then scored like colour: its Y weights sum to 0.859).
- ``border``: ``scale`` (crop the SR scale, 0 for denoising and deraining) or a pixel count.
- ``noise_mode``: ``legacy-bgr`` (``np.random.seed(0)`` per image, drawn in OpenCV's BGR order:
  SwinIR ``main_test_swinir.py`` and KAIR's copy of it), ``legacy-rgb`` (the same draw in RGB
  order: KAIR ``main_test_dncnn.py``, Restormer) or ``seeded`` (a per-image generator keyed by
  seed, dataset and image); ``noise_clip`` clamps to [0, 255]; ``noise_round`` rounds to integers.
- ``lr_source``: ``matlab-bicubic`` (MATLAB ``imresize`` of the RGB uint8 HR, rounded) or
  ``dataset`` (the dataset's own ``LR_bicubic`` files).
- ``ssim_variant``: ``valid`` (11x11 Gaussian, sigma 1.5, 'valid' map) or ``valid-downsample`` (MATLAB
  ``ssim_index.m``: average-filter and subsample by ``round(min(H, W) / 256)`` first).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ipt_bench.core.errors import ConfigError

SWITCH_VALUES: dict[str, tuple[Any, ...]] = {
    "channel": ("y", "rgb"),
    "y_formula": ("bt601", "bt601-f32", "ipt"),
    "y_rounding": ("round", "float"),
    "gray": ("own", "replicate"),
    "border": ("scale",),  # or a non-negative int
    "noise_mode": ("legacy-bgr", "legacy-rgb", "seeded"),
    "noise_clip": (False, True),
    "noise_round": (False, True),
    "lr_source": ("matlab-bicubic", "dataset"),
    "ssim_variant": ("valid", "valid-downsample"),
}
SWITCHES = tuple(SWITCH_VALUES)
#: Old spelling of ``legacy-bgr`` still accepted.
_ALIASES = {"noise_mode": {"legacy": "legacy-bgr"}}


@dataclass(frozen=True)
class Protocol:
    """Every scoring and degradation switch, and the preset they come from (``name``)."""

    name: str
    channel: str = "y"
    y_formula: str = "bt601"
    y_rounding: str = "round"
    gray: str = "own"
    border: str | int = "scale"
    noise_mode: str = "legacy-bgr"
    noise_clip: bool = False
    noise_round: bool = False
    lr_source: str = "matlab-bicubic"
    ssim_variant: str = "valid"

    def __post_init__(self) -> None:
        for switch in SWITCHES:
            check_switch(switch, getattr(self, switch))

    def switches(self) -> dict[str, Any]:
        """``{switch: value}`` in :data:`SWITCHES` order."""
        return {s: getattr(self, s) for s in SWITCHES}

    def with_overrides(self, overrides: Mapping[str, Any]) -> Protocol:
        """This protocol with ``overrides`` applied; the name lists the switches that changed."""
        values = {k: normalize_switch(k, v) for k, v in overrides.items() if v is not None}
        changed = {k: v for k, v in values.items() if getattr(self, _field(k)) != v}
        if not changed:
            return self
        suffix = "".join(f"+{k}={_text(v)}" for k, v in changed.items())
        return dataclasses.replace(self, name=self.name + suffix, **changed)

    def border_for(self, scale: int) -> int:
        """Pixels cropped from each side for an SR ``scale`` (1 for denoising and deraining)."""
        if self.border == "scale":
            return int(scale) if scale > 1 else 0
        return int(self.border)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (inverse: :meth:`from_json`)."""
        return {"name": self.name, **self.switches()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Protocol:
        """Rebuild a protocol from :meth:`to_json` output."""
        return cls(**dict(data))


@dataclass(frozen=True)
class Preset:
    """A named, versioned :class:`Protocol` and what it reproduces."""

    protocol: Protocol
    version: int
    source: str


def _field(switch: str) -> str:
    if switch not in SWITCH_VALUES:
        raise ConfigError(f"unknown protocol switch {switch!r}", f"use one of {', '.join(SWITCHES)}")
    return switch


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def normalize_switch(switch: str, value: Any) -> Any:
    """``value`` of ``switch`` in canonical form (aliases resolved, booleans and ints parsed)."""
    _field(switch)
    value = _ALIASES.get(switch, {}).get(value, value)
    if switch in ("noise_clip", "noise_round") and isinstance(value, str):
        value = {"true": True, "false": False, "yes": True, "no": False}.get(value.lower(), value)
    if switch == "border" and isinstance(value, str) and value.isdigit():
        value = int(value)
    check_switch(switch, value)
    return value


def check_switch(switch: str, value: Any) -> None:
    """Raise a :class:`ConfigError` unless ``value`` is allowed for ``switch``."""
    allowed = SWITCH_VALUES[_field(switch)]
    if switch == "border" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return
    if value not in allowed or type(value) is not type(allowed[0]):
        extra = " or a pixel count" if switch == "border" else ""
        raise ConfigError(
            f"protocol switch {switch} cannot be {value!r}",
            f"use one of {', '.join(_text(v) for v in allowed)}{extra}",
        )


PRESETS: dict[str, Preset] = {
    p.protocol.name: p
    for p in (
        Preset(
            Protocol(
                "ipt",
                y_formula="ipt",
                y_rounding="float",
                gray="replicate",
                noise_mode="seeded",
                noise_clip=True,
            ),
            1,
            "official IPT PyTorch test code (utility.calc_psnr / quantize; noise clamped to "
            "[0, 255], not rounded; the official draw is unseeded, here seeded per image)",
        ),
        Preset(
            Protocol("matlab"),
            1,
            "EDSR/RCAN MATLAB scripts: rgb2ycbcr on uint8 (rounded Y), gray is its own Y; the "
            "published bicubic and Table 1 peer rows (denoising: SwinIR's legacy BGR draw)",
        ),
        Preset(
            Protocol(
                "basicsr", y_formula="bt601-f32", y_rounding="float", gray="replicate", noise_mode="seeded"
            ),
            1,
            "BasicSR calculate_psnr / calculate_ssim(test_y_channel=True): float32 Y, crop = scale",
        ),
        Preset(
            Protocol("kair", channel="rgb", y_rounding="float"),
            1,
            "SwinIR main_test_swinir.py / KAIR colour denoising: np.random.seed(0) per image, BGR "
            "draw, no clip, no rounding, RGB PSNR/SSIM, gray sets on their channel",
        ),
        Preset(
            Protocol("restormer", channel="rgb", y_rounding="float", noise_mode="legacy-rgb"),
            1,
            "Restormer / KAIR main_test_dncnn.py: np.random.seed(0) per image, RGB draw, no clip, "
            "no rounding, RGB scores",
        ),
    )
}
DEFAULT_PRESET = "matlab"


def get_preset(name: str) -> Preset:
    """The preset called ``name``, or a ConfigError listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(PRESETS)
        raise ConfigError(f"unknown protocol preset {name!r}", f"use one of {known}") from None


def protocol_label(protocol: Protocol) -> str:
    """The row's ``protocol`` value: preset name and version, then the overridden switches
    (``ipt@1``, ``ipt@1+channel=rgb``)."""
    base, _, suffix = protocol.name.partition("+")
    version = PRESETS[base].version if base in PRESETS else 0
    return f"{base}@{version}" + (f"+{suffix}" if suffix else "")


def resolve_protocol(name: str = DEFAULT_PRESET, overrides: Mapping[str, Any] | None = None) -> Protocol:
    """The protocol of preset ``name`` with single switches ``overrides`` (None values ignored)."""
    return get_preset(name).protocol.with_overrides(overrides or {})


def protocol_key(label: str) -> str:
    """A row or reference protocol without its preset version: ``ipt@1+channel=rgb`` ->
    ``ipt+channel=rgb``; rows and references compare on this key."""
    base, _, suffix = label.partition("+")
    return base.partition("@")[0] + (f"+{suffix}" if suffix else "")


def parse_protocol(key: str) -> Protocol:
    """The protocol a key such as ``ipt+channel=rgb+noise_clip=false`` names."""
    base, *overrides = protocol_key(key).split("+")
    return resolve_protocol(base, dict(item.partition("=")[::2] for item in overrides))


def differing_switches(a: str, b: str) -> list[str]:
    """The switches in which the protocols keyed ``a`` and ``b`` differ."""
    left, right = parse_protocol(a).switches(), parse_protocol(b).switches()
    return [s for s in SWITCHES if left[s] != right[s]]


def row_switches(
    protocol: Protocol, *, border: int, denoise: bool, lr_source: str, input_text: str
) -> dict[str, Any]:
    """The protocol columns of a result row (``ipt_bench.core.rows.PROTOCOL_COLUMNS``): the label,
    every switch as applied (``border`` resolved; noise switches only when ``denoise``), the LR
    source and what the input is."""
    return {
        "protocol": protocol_label(protocol),
        "channel": protocol.channel,
        "y_formula": protocol.y_formula,
        "y_rounding": protocol.y_rounding,
        "gray": protocol.gray,
        "crop_border": int(border),
        "ssim_variant": protocol.ssim_variant,
        "lr_source": lr_source,
        "noise_mode": protocol.noise_mode if denoise else "",
        "noise_clip": bool(protocol.noise_clip and denoise),
        "noise_round": bool(protocol.noise_round and denoise),
        "input": input_text,
    }
