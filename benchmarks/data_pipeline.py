"""Time generating and curating the full default cohort (target: under 60 s on 2 cores).

    .venv/bin/python benchmarks/data_pipeline.py [n_patients]
"""
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from radonc_llm.curate import curate
from radonc_llm.pairs import eval_pool, resolve_modality, split_pairs, task_table
from radonc_llm.tasks import ORDER as TASKS
from radonc_llm.synthetic import write_cohort
from radonc_llm.tables import read_export

config = yaml.safe_load((Path(__file__).parents[1] / "config" / "config.yaml").read_text())
n = int(sys.argv[1]) if len(sys.argv) > 1 else config["synthetic"]["n_patients"]
with tempfile.TemporaryDirectory() as tmp:
    d, p = Path(tmp, "diagnoses.csv"), Path(tmp, "plans.csv")
    t0 = time.perf_counter()
    write_cohort(n, config["synthetic"]["seed"], d, p)
    t1 = time.perf_counter()
    cases, _ = curate(read_export(d, "diagnoses"), read_export(p, "plans"), b"benchmark")
    labels, _ = resolve_modality(cases, pd.DataFrame({"case_id": [], "modality": []}, dtype=str))
    t2 = time.perf_counter()
    for task in TASKS:
        split_pairs(task_table(task, cases, labels), eval_pool(task, cases), config["split"]["eval_size"][task],
                    config["split"]["seed"], config["tasks"][task]["instruction"])
    t3 = time.perf_counter()
print(f"patients: {n}; curated cases: {len(cases)}")
print(f"generate: {t1 - t0:.1f} s; read + curate: {t2 - t1:.1f} s; pairs: {t3 - t2:.1f} s; "
      f"total: {t3 - t0:.1f} s (target < 60 s: {'met' if t3 - t0 < 60 else 'NOT met'})")
