# Snakemake entry point of rule split_pairs; the work is in radonc_llm.stages.split_pairs.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import split_pairs  # noqa: E402

split_pairs(snakemake)
