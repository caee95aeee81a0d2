# Training seeds (finetune.seeds): each model and task's adapter trained again with further seeds on the same
# pairs, each predicted on the eval and selection pairs at every temperature and scored like the run's own;
# tables/seeds.csv gives each seed's result at its temperature chosen on the selection pairs, and their mean
# and spread. Everything under results/<run>/seeds/seed<s>/ mirrors the run's own finetune/, predictions/ and
# metrics/ for the fine-tuned variant.
use rule finetune as finetune_seed with:
    output:
        adapter=directory(seed_path("finetune/{model}/{task}/adapter")),
        train_log=seed_path("finetune/{model}/{task}/train_log.csv"),
        loss_curve=seed_path("finetune/{model}/{task}/loss_curve.png"),
        model_card=seed_path("finetune/{model}/{task}/model_card.json"),
    log:
        run_path("logs/seeds/seed{seed}/finetune/{model}/{task}.log"),
    benchmark:
        run_path("benchmarks/seeds/seed{seed}/finetune/{model}/{task}.tsv")
    wildcard_constraints:
        seed=r"\d+",
    params:
        base_dir=model_setting("path"),
        prompt_format=model_setting("prompt_format"),
        settings=lambda wc: finetune_settings(wc.task) | {"training_seed": int(wc.seed)},
        work_root=lambda wc: run_path(
            f"seeds/seed{wc.seed}/finetune/{wc.model}/{wc.task}.work"
        ),


use rule predict as predict_seed with:
    input:
        base=model_file("config.json"),
        eval=run_path("pairs/{task}/eval.parquet"),
        selection=run_path("pairs/{task}/selection.parquet"),
        adapter=seed_path("finetune/{model}/{task}/adapter"),
    output:
        eval=[
            seed_path(f"predictions/{{model}}/{TRAINED_VARIANT}/{{task}}/T{t}.parquet")
            for t in TEMPERATURES
        ],
        selection=[
            seed_path(
                f"predictions/{{model}}/{TRAINED_VARIANT}/{{task}}/selection/T{t}.parquet"
            )
            for t in TEMPERATURES
        ],
    log:
        run_path("logs/seeds/seed{seed}/predict/{model}/{task}.log"),
    benchmark:
        run_path("benchmarks/seeds/seed{seed}/predict/{model}/{task}.tsv")
    wildcard_constraints:
        seed=r"\d+",
    params:
        base_dir=model_setting("path"),
        prompt_format=model_setting("prompt_format"),
        settings=predict_settings(),
        variants=[TRAINED_VARIANT],
        splits=["eval", "selection"],
        prompting=None,


use rule score as score_seed with:
    input:
        pairs=run_path("pairs/{task}/eval.parquet"),
        predictions=rules.predict_seed.output.eval,
        selection=run_path("pairs/{task}/selection.parquet"),
        selection_predictions=rules.predict_seed.output.selection,
    output:
        cases=[
            seed_path(f"metrics/{{model}}/{TRAINED_VARIANT}/{{task}}/T{t}.parquet")
            for t in TEMPERATURES
        ],
        summaries=[
            seed_path(f"metrics/{{model}}/{TRAINED_VARIANT}/{{task}}/summary.csv")
        ],
        selection_summaries=[
            seed_path(
                f"metrics/{{model}}/{TRAINED_VARIANT}/{{task}}/selection/summary.csv"
            )
        ],
    log:
        run_path("logs/seeds/seed{seed}/score/{model}/{task}.log"),
    benchmark:
        run_path("benchmarks/seeds/seed{seed}/score/{model}/{task}.tsv")
    wildcard_constraints:
        seed=r"\d+",
    params:
        variants=[TRAINED_VARIANT],
        splits=["eval", "selection"],
        all_pairs_variants=[],
        temperatures=config["predict"]["temperatures"],
        scoring=SCORING,


rule seeds_table:
    input:
        summaries=seed_summaries("eval"),
        selection_summaries=seed_summaries("selection"),
    output:
        report(
            run_path("tables/seeds.csv"),
            caption="../report/seeds.rst",
            category="Tables",
        ),
    log:
        run_path("logs/seeds_table.log"),
    conda:
        "../envs/evaluate.yaml"
    resources:
        **slurm_placement(0),
    params:
        seed_keys=keys_of(seed=SEEDS, model=MODELS, task=TASKS),
        temperature=config["statistics"]["temperature"],
    script:
        "../scripts/seeds_table.py"
