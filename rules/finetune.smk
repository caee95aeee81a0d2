# One LoRA adapter per base model and task. GPU jobs on a cluster: resources come from config.
rule finetune:
    input:
        base=model_file("config.json"),
        train=run_path("pairs/{task}/train.parquet"),
    output:
        adapter=directory(run_path("finetune/{model}/{task}/adapter")),
        train_log=run_path("finetune/{model}/{task}/train_log.csv"),
        loss_curve=report(
            run_path("finetune/{model}/{task}/loss_curve.png"),
            caption="../report/loss_curve.rst",
            category="Fine-tuning",
            subcategory="{model}",
        ),
        model_card=run_path("finetune/{model}/{task}/model_card.json"),
    log:
        run_path("logs/finetune/{model}/{task}.log"),
    benchmark:
        run_path("benchmarks/finetune/{model}/{task}.tsv")
    priority: 1
    conda:
        "../envs/train.yaml"
    threads: config["finetune"]["threads"]
    resources:
        **slurm_placement(finetune_resource("gpu")),
        gpu=finetune_resource("gpu"),
        cpus_per_task=finetune_resource("cpus_per_task"),
        mem_mb=finetune_resource("mem_mb"),
        runtime=finetune_resource("runtime"),
    params:
        base_dir=model_setting("path"),
        prompt_format=model_setting("prompt_format"),
        settings=lambda wc: finetune_settings(wc.task),
        work_root=lambda wc: run_path(f"finetune/{wc.model}/{wc.task}.work"),
    script:
        "../scripts/finetune.py"


rule adapters:
    input:
        expand(
            run_path("finetune/{model}/{task}/model_card.json"),
            model=MODELS,
            task=TASKS,
        ),
