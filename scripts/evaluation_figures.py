# Snakemake entry point of rule evaluation_figures; the work is in radonc_llm.stages.evaluation_figures.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import evaluation_figures  # noqa: E402

evaluation_figures(snakemake)
