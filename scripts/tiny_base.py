# Snakemake entry point of rule tiny_base; the work is in radonc_llm.stages.tiny_base.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import tiny_base  # noqa: E402

tiny_base(snakemake)
