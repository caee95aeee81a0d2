"""Errors a user can fix: their message is one line that names the file, the column and the line (or the
setting) and what to do, never a cell's content. Jobs report them without a traceback (stages.logged)."""


class UserError(ValueError):
    """Bad input or settings, as opposed to a bug."""
