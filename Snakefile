# radonc-llm: raw Aria exports -> curated cases -> prompt/answer pairs per task -> LoRA adapters
# -> per-temperature predictions -> metrics, Wilcoxon tables and figures.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "config/schema.yaml")


# Job priorities (rules' `priority:`) keep every core busy to the end on a small machine: 3, the seconds-long
# jobs a task's chain waits on (its labels and pairs); 2, the longest single jobs (prompted predictions, k solved
# cases in every prompt; the classical baselines, whose ICD-10 fit otherwise ran alone at the end), so that none
# is left to run alone at the end; 1, the longest chain (base, adapter, its predictions); the other jobs fill the
# cores.
include: "rules/common.smk"
include: "rules/synthetic.smk"
include: "rules/curate.smk"
include: "rules/pairs.smk"
include: "rules/models.smk"
include: "rules/finetune.smk"
include: "rules/predict.smk"


if config["prompting"]["variants"]:

    include: "rules/prompting.smk"


include: "rules/evaluate.smk"
include: "rules/seeds.smk"
include: "rules/study_report.smk"
include: "rules/grading.smk"
include: "rules/learning_curve.smk"


localrules:
    all,
    pairs,
    adapters,
    predictions,
    evaluation,
    grading,


rule all:
    default_target: True
    input:
        rules.pairs.input,
        rules.adapters.input,
        rules.predictions.input,
        rules.evaluation.input,
        rules.grading.input,
        rules.study_report.output,
