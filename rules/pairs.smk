# Prompt/answer pairs per task, split into train and eval.
rule split_pairs:
    input:
        unpack(pair_inputs),
    output:
        train="results/pairs/{task}/train.parquet",
        eval="results/pairs/{task}/eval.parquet",
    log:
        "results/logs/split_pairs/{task}.log",
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    params:
        instruction=lambda wc: task_config(wc.task)["instruction"],
        eval_size=lambda wc: eval_size(wc.task),
        seed=config["split"]["seed"],
    script:
        "../scripts/split_pairs.py"


rule pairs:
    input:
        expand("results/pairs/{task}/{split}.parquet", task=TASKS, split=SPLITS),
        "results/data/cohort.csv",
        "results/data/curation_funnel.csv",
        "results/data/curation_funnel.png",
        "results/data/needs_annotation.csv",
        "results/data/consistency_summary.csv",
