# Snakemake entry point of rule grading_results; the work is in radonc_llm.stages.grading_results.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import grading_results  # noqa: E402

grading_results(snakemake)
