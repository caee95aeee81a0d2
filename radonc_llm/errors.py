"""Errors a user can fix: their message is one line that names the file, the column and the line (or the
setting) and what to do, never a cell's content. Jobs report them without a traceback (`logged`)."""
from __future__ import annotations

import contextlib
import logging


class UserError(ValueError):
    """Bad input or settings, as opposed to a bug."""


@contextlib.contextmanager
def logged(smk):
    """A Snakemake job (`smk`, the `snakemake` object of a script): the package's log goes to the rule's log
    file, and a failure is recorded there too."""
    handler = logging.FileHandler(smk.log[0], mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield logging.getLogger(f"radonc_llm.{smk.rule}")
    except UserError as err:  # our own messages name file, column and line only: one line, no traceback
        root.error("%s", err)
        raise SystemExit(f"error: {err}") from None
    except Exception as err:  # a library's message may quote a cell (an ID, a diagnosis): keep it out of the log
        root.error("failed with %s (message withheld from the log; see the console)", type(err).__name__)
        raise
    finally:
        root.removeHandler(handler)
        handler.close()
