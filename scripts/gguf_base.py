# Snakemake entry point of rule gguf_base; the work is in radonc_llm.stages.gguf_base.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import gguf_base  # noqa: E402

gguf_base(snakemake)
