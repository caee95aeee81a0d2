# Per-temperature predictions: one job per model, variant and task loads its model once and writes
# every temperature's file for the eval and the selection pairs (one GPU job each on a cluster; the temperatures share the loaded model).
# The prompting variants: rules/prompting.smk.
rule predict:
    input:
        unpack(predict_inputs),
    output:
        eval=expand(
            run_path(
                "predictions/{{model}}/{{variant}}/{{task}}/T{temperature}.parquet"
            ),
            temperature=TEMPERATURES,
        ),
        selection=expand(
            run_path(
                "predictions/{{model}}/{{variant}}/{{task}}/selection/T{temperature}.parquet"
            ),
            temperature=TEMPERATURES,
        ),
    log:
        run_path("logs/predict/{model}/{variant}/{task}.log"),
    benchmark:
        run_path("benchmarks/predict/{model}/{variant}/{task}.tsv")
    wildcard_constraints:
        variant="|".join(PLAIN_VARIANTS),
    conda:
        "../envs/train.yaml"
    threads: config["predict"]["threads"]
    resources:
        **slurm_placement(predict_resource("gpu")),
        gpu=predict_resource("gpu"),
        cpus_per_task=predict_resource("cpus_per_task"),
        mem_mb=predict_resource("mem_mb"),
        runtime=predict_resource("runtime"),
    params:
        base_dir=model_setting("path"),
        prompt_format=model_setting("prompt_format"),
        settings=predict_settings(),
        variants=lambda wc: [wc.variant],
        splits=["eval", "selection"],
        prompting=None,
    script:
        "../scripts/predict.py"


rule predictions:
    input:
        expand(
            run_path("predictions/{model}/{variant}/{task}/T{temperature}.parquet"),
            model=MODELS,
            variant=VARIANTS,
            task=TASKS,
            temperature=TEMPERATURES,
        ),
