"""The ``ipt-bench`` command: a typer app whose subcommands live in small modules.

Heavy libraries (torch, pandas, matplotlib) are imported inside command bodies, never at
module level here, so ``ipt-bench --help`` and light commands start fast.
"""

from __future__ import annotations

import sys
import traceback
import warnings

import typer

from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.interrupts import exit_status, raise_on_sigterm, settle_sigterm, signal_name

app = typer.Typer(
    name="ipt-bench",
    help="Ablation benchmarks for the Image Processing Transformer (IPT).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full Python tracebacks on errors."),
) -> None:
    """Ablation benchmarks for the Image Processing Transformer (IPT)."""
    _state["debug"] = debug


def _hide_flag_types() -> None:
    """typer 0.29's help shows the type ``<bool>`` beside on/off flags, which take no value; show
    nothing there (other options keep their types)."""
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "hides_flags", False):
        return

    def display_type_rich(self, ctx):
        return None if self.is_flag else shown(self, ctx)

    display_type_rich.hides_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


def _register_commands() -> None:
    from ipt_bench.cli import commands

    commands.register(app)


def _print_error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    previous = raise_on_sigterm()  # SIGTERM unwinds like Ctrl-C, so records are written; exit 143
    _hide_flag_types()
    _register_commands()
    _state["debug"] = "--debug" in (argv if argv is not None else sys.argv[1:])
    # Library warnings (torch, Pillow) are held back and shown once the command succeeds, so
    # a failing command prints its one error line and nothing before it (--debug shows them).
    status, held = 0, []  # a SystemExit (the run command's own exit codes) keeps the warnings
    try:
        with warnings.catch_warnings(record=True) as held:
            status = _run(argv)
    finally:
        if status != 2 or _state["debug"]:
            for warning in held:
                warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
        settle_sigterm(previous, exiting=argv is None)  # no argv: the console script, about to exit
    return status


def _run(argv: list[str] | None) -> int:
    try:
        result = app(args=argv, standalone_mode=False, prog_name="ipt-bench")
    except IptBenchError as exc:
        if _state["debug"]:
            traceback.print_exc()
        _print_error(exc.one_line())
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        _print_error("interrupted")
        return 130
    except typer.TyperException as exc:  # usage errors (typer >= 0.29 raises its own click copies)
        context = getattr(exc, "ctx", None)
        command = context.command_path if context is not None else "ipt-bench"
        _print_error(f"{exc.format_message()} -- fix: see `{command} --help`")
        return 2
    except KeyboardInterrupt as exc:
        _print_error(f"interrupted by {signal_name(exc)}")
        return exit_status(exc)
    except OSError as exc:  # the system refused something no check could foresee (disk full, I/O error)
        if _state["debug"]:
            traceback.print_exc()
        where = f"{exc.filename}: " if exc.filename else ""
        _print_error(
            f"{where}{exc.strerror or exc}; files already written were left as they were -- fix: check the "
            "path, its permissions and the free disk space, then run the command again"
        )
        return 2
    except MemoryError:
        _print_error("out of memory -- fix: pass a smaller --memory-budget, --batch-size or image")
        return 2
    except Exception as exc:  # a bug: one line instead of a traceback, which --debug shows
        if _state["debug"]:
            traceback.print_exc()
        _print_error(
            f"internal error ({type(exc).__name__}: {' '.join(str(exc).split())}) -- fix: run the command "
            "again with --debug and report the traceback"
        )
        return 1
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
