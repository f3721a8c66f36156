"""Command-line values checked before they reach a library: options that do not apply to the
chosen task are refused, never silently ignored."""

from __future__ import annotations

from ipt_bench.core.errors import ConfigError

#: The task each task-specific option belongs to.
_OPTION_TASK = {"--scale": "sr", "--sigma": "denoise"}


def refuse_inapplicable(task: str | None, **given: object) -> None:
    """Refuse ``--scale`` without ``--task sr`` and ``--sigma`` without ``--task denoise``
    (``given`` maps option names without dashes to their value, None when not given);
    ``noise_mode`` other than the default ``legacy`` also needs denoising."""
    for name, value in given.items():
        option = "--" + name.replace("_", "-")
        wanted = _OPTION_TASK.get(option, "denoise" if name == "noise_mode" else None)
        if wanted is None or value is None or (name == "noise_mode" and value == "legacy"):
            continue
        if task != wanted:
            raise ConfigError(
                f"{option} {value} does not apply to --task {task or '(none)'}; it would be ignored",
                f"drop {option}, or use --task {wanted}",
            )
