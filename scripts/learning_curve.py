# Snakemake entry point of rule learning_curve; the work is in radonc_llm.stages.learning_curve.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import learning_curve  # noqa: E402

learning_curve(snakemake)
