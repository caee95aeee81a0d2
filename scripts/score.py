# Snakemake entry point of rule score; the work is in radonc_llm.stages.score.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import score  # noqa: E402

score(snakemake)
