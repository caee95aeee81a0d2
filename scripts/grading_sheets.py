# Snakemake entry point of rule grading_sheets; the work is in radonc_llm.stages.grading_sheets.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import grading_sheets  # noqa: E402

grading_sheets(snakemake)
