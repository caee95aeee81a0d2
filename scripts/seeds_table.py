# Snakemake entry point of rule seeds_table; the work is in radonc_llm.stages.seeds_table.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import seeds_table  # noqa: E402

seeds_table(snakemake)
