# Snakemake entry point of rule modality_labels; the work is in radonc_llm.stages.modality_labels.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import modality_labels  # noqa: E402

modality_labels(snakemake)
