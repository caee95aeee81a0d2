# Snakemake entry point of rule baselines; the work is in radonc_llm.stages.baselines.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import baselines  # noqa: E402

baselines(snakemake)
