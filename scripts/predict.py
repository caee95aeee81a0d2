# Snakemake entry point of rule predict; the work is in radonc_llm.stages.predict.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import predict  # noqa: E402

predict(snakemake)
