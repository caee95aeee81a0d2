# Prompt/answer pairs per task, split into train and eval.
rule split_pairs:
    input:
        unpack(pair_inputs),
    output:
        train=run_path("pairs/{task}/train.parquet"),
        eval=run_path("pairs/{task}/eval.parquet"),
    log:
        run_path("logs/split_pairs/{task}.log"),
    priority: 3
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


# The selection set of each task: train pairs no adapter trains on, where temperatures and the best
# competitor are chosen (the eval cases are used once, for the final comparison); and the pairs the task's
# adapters train on (learned.parquet), from which the baselines are fitted and the prompting variants draw
# their solved cases, so that every method is compared at the same labelled data.
rule selection_pairs:
    input:
        train=run_path("pairs/{task}/train.parquet"),
    output:
        selection=run_path("pairs/{task}/selection.parquet"),
        learned=run_path("pairs/{task}/learned.parquet"),
    log:
        run_path("logs/selection_pairs/{task}.log"),
    priority: 3
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    params:
        finetune=lambda wc: held_out_settings(wc.task),
        size=config["statistics"]["selection_size"],
        seed=config["statistics"]["seed"],
    script:
        "../scripts/selection_pairs.py"


rule pairs:
    input:
        expand(run_path("pairs/{task}/{split}.parquet"), task=TASKS, split=SPLITS),
        expand(
            run_path("pairs/{task}/{split}.parquet"),
            task=TASKS,
            split=["selection", "learned"],
        ),
        run_path("data/cohort.csv"),
        run_path("data/curation_funnel.csv"),
        run_path("data/curation_funnel.png"),
        run_path("data/needs_annotation.csv"),
        run_path("data/consistency_summary.csv"),
