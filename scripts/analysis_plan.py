# Snakemake entry point of rule analysis_plan; the work is in radonc_llm.stages.analysis_plan.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import analysis_plan  # noqa: E402

analysis_plan(snakemake)
