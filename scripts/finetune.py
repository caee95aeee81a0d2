# Snakemake entry point of rule finetune; the work is in radonc_llm.stages.finetune.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import finetune  # noqa: E402

finetune(snakemake)
