# Snakemake entry point of rule evaluation_tables; the work is in radonc_llm.stages.evaluation_tables.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import evaluation_tables  # noqa: E402

evaluation_tables(snakemake)
