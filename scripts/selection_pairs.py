# Snakemake entry point of rule selection_pairs; the work is in radonc_llm.stages.selection_pairs.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import selection_pairs  # noqa: E402

selection_pairs(snakemake)
