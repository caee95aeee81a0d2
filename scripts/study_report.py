# Snakemake entry point of rule study_report; the work is in radonc_llm.stages.study_report.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # the package, also inside a conda env
from radonc_llm.stages import study_report  # noqa: E402

study_report(snakemake)
