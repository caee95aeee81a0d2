# Snakemake entry point of rule consistency; the work is in radonc_llm.stages.consistency.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import consistency  # noqa: E402

consistency(snakemake)
