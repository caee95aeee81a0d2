# Snakemake entry point of rule learned_pairs_subset; the work is in radonc_llm.stages.learned_pairs.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import learned_pairs  # noqa: E402

learned_pairs(snakemake)
