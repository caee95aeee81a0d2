# Snakemake entry point of rule curate; the work is in radonc_llm.stages.curate_cases.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import curate_cases  # noqa: E402

curate_cases(snakemake)
