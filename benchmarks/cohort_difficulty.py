"""How hard the synthetic default is for a bag of words: the classical baselines on every task of the default
cohort drawn at each setting of `synthetic.ambiguity` given as BORDERLINE:PRIMARY_FIRST:SECOND_PROBLEM:SHORTHAND
(default: the config's), through the workflow's own generation, curation (the demo's key and annotations), pairs and
baselines.

    .venv/bin/python benchmarks/cohort_difficulty.py [BORDERLINE:PRIMARY_FIRST:SECOND_PROBLEM:SHORTHAND ...]
"""
import sys
import tempfile
from pathlib import Path

import yaml

from radonc_llm.baselines import BASELINES
from radonc_llm.metrics import Scoring, score_baseline
from radonc_llm.curate import curate
from radonc_llm.modality import LABELS
from radonc_llm.pairs import eval_pool, resolve_modality, split_pairs, task_table
from radonc_llm.pseudonym import resolve_key
from radonc_llm.synthetic import write_cohort
from radonc_llm.tables import MODALITY_OVERRIDE_COLUMNS, TEXT_SEPARATION_COLUMNS, read_annotation, read_export
from radonc_llm.tasks import ORDER as TASKS

REPO = Path(__file__).parents[1]
config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
synthetic, split, annotations = config["synthetic"], config["split"], config["annotations"]
key = resolve_key(config["pseudonym"], True, REPO)  # the demo's key: the demo's case IDs, so the demo's split
separations = read_annotation(REPO / annotations["text_separations"], TEXT_SEPARATION_COLUMNS)
overrides = read_annotation(REPO / annotations["modality_overrides"], MODALITY_OVERRIDE_COLUMNS, {"modality": LABELS})
KINDS = ("borderline", "primary_first", "second_problem", "shorthand")
settings = [dict(zip(KINDS, map(float, arg.split(":")))) for arg in sys.argv[1:]]
for ambiguity in settings or [synthetic["ambiguity"]]:
    with tempfile.TemporaryDirectory() as tmp:
        d, p = Path(tmp, "diagnoses.csv"), Path(tmp, "plans.csv")
        counts = write_cohort(synthetic["n_patients"], synthetic["seed"], d, p, synthetic["coding_noise"],
                              ambiguity=ambiguity)
        cases, _ = curate(read_export(d, "diagnoses"), read_export(p, "plans"), key, separations,
                          config["modality"].get("synonyms", {}), window=config["curation"]["window"])
    labels, _ = resolve_modality(cases, overrides)
    print(f"ambiguity {ambiguity}: {counts['borderline']} borderline notes, {counts['primary_first']} metastases "
          f"coded to their primary, {counts['second_problem']} second problems, {counts['shorthand']} in shorthand, of "
          f"{synthetic['n_patients']} patients")
    for task in TASKS:
        train, evaluation = split_pairs(task_table(task, cases, labels), eval_pool(task, cases),
                                        split["eval_size"][task], split["seed"], config["tasks"][task]["instruction"])
        for name in BASELINES[task]:
            _, row = score_baseline(name, task, train, evaluation, Scoring.from_config(config))
            r = row.iloc[0]
            print(f"  {task:9s} {name:18s} {r['headline']:.3f} (95 % CI {r['ci_low']:.3f}-{r['ci_high']:.3f}), "
                  f"n = {r['n']}")
