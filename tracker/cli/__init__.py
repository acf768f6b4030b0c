"""The command line (`tracker ...`): argument parsing and printing only; the work is in services."""

from tracker.cli.commands import main
from tracker.cli.common import UsageError

__all__ = ["UsageError", "main"]
