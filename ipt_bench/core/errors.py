"""The one exception type users see: a problem plus how to fix it."""

from __future__ import annotations


class IptBenchError(Exception):
    """A user-facing error: ``problem`` says what is wrong (and where), ``fix`` how to resolve it.

    The CLI prints ``error: <problem> -- <fix>`` on one line and exits with status 2.
    """

    exit_code = 2

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message as a single line (newlines folded)."""
        text = self.problem if not self.fix else f"{self.problem} -- fix: {self.fix}"
        return " ".join(text.split())


class DatasetError(IptBenchError):
    """A dataset is missing, incomplete, corrupt or laid out in an unknown way."""


class CheckpointError(IptBenchError):
    """A checkpoint cannot be loaded safely into the requested architecture."""


class ConfigError(IptBenchError):
    """A suite file, CLI option or variant name is invalid."""


class TrainingDiverged(IptBenchError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""
