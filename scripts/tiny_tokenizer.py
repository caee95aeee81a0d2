# Snakemake entry point of rule tiny_tokenizer; the work is in radonc_llm.stages.tiny_tokenizer.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import tiny_tokenizer  # noqa: E402

tiny_tokenizer(snakemake)
