# Snakemake entry point of rule cohort_summary; the work is in radonc_llm.stages.cohort_summary.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import cohort_summary  # noqa: E402

cohort_summary(snakemake)
