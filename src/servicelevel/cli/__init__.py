"""The ``slm`` command line: thin commands that parse, call the layers, and render.

Each command group lives in its own module and registers itself on ``app``. Errors are
translated once, here: a ``ServiceLevelError`` prints its message and exits with 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from servicelevel.errors import ServiceLevelError

app = typer.Typer(
    name="slm",
    help="servicelevel: service level management for contact centers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Wide enough for KPI tables when the output is a file or a pipe, not a terminal.
console = Console(width=None if sys.stdout.isatty() else 160)
# Error messages are never wrapped: a file:line:column must stay on one line.
err_console = Console(stderr=True, soft_wrap=True)

EXIT_INVALID_INPUT = 2


def main() -> None:
    """Entry point of the ``slm`` console script."""
    _register_commands(sys.argv[1] if len(sys.argv) > 1 else None)
    try:
        app()
    except ServiceLevelError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
        sys.exit(EXIT_INVALID_INPUT)


_REGISTERED = False


def _register_commands(command: str | None = None) -> None:
    """Register every command; for ``slm NAME`` where a module NAME defines the command
    NAME, only that module (each module imports its own layers: kpi needs no planning)."""
    global _REGISTERED
    if _REGISTERED:
        return
    _REGISTERED = True
    import importlib

    if command in _COMMAND_MODULES:
        importlib.import_module(f"servicelevel.cli.{command}").register(app)
        names = {c.name or (c.callback.__name__.replace("_", "-") if c.callback else None)
                 for c in app.registered_commands}
        if command in names and not app.registered_groups:
            if app.registered_callback is None:  # keep "slm NAME": a group, not one command
                app.callback()(lambda: None)
            return
        app.registered_commands.clear()
        app.registered_groups.clear()
    for module in _COMMAND_MODULES:
        importlib.import_module(f"servicelevel.cli.{module}").register(app)


# One module per command group; each defines ``register(app)``.
_COMMAND_MODULES: tuple[str, ...] = ("ingest", "kpi", "demo", "queueing", "contract", "lake",
                                      "forecast", "schedule", "hire",)


def get_app() -> typer.Typer:
    """The app with every command registered (for tests and docs generation)."""
    _register_commands()
    return app
