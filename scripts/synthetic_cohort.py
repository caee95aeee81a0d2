# Snakemake entry point of rule synthetic_cohort; the work is in radonc_llm.stages.synthetic_cohort.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import synthetic_cohort  # noqa: E402

synthetic_cohort(snakemake)
