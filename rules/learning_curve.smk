# The learning curve: adapters on nested seeded subsets of the train pairs (learning_curve.sizes), each
# predicted and scored at one temperature like the run's own adapters, then drawn against training cases
# beside the prompting variants and the best baseline. Everything under results/<run>/learning_curve/n<size>/
# mirrors the run's own finetune/, predictions/ and metrics/; its own target: snakemake learning_curve.
use rule finetune as finetune_subset with:
    input:
        base=model_file("config.json"),
        train=run_path("pairs/{task}/train.parquet"),
    output:
        adapter=directory(curve_path("finetune/{model}/{task}/adapter")),
        train_log=curve_path("finetune/{model}/{task}/train_log.csv"),
        loss_curve=curve_path("finetune/{model}/{task}/loss_curve.png"),
        model_card=curve_path("finetune/{model}/{task}/model_card.json"),
    log:
        run_path("logs/learning_curve/n{size}/finetune/{model}/{task}.log"),
    benchmark:
        run_path("benchmarks/learning_curve/n{size}/finetune/{model}/{task}.tsv")
    wildcard_constraints:
        size=r"\d+",
    params:
        base_dir=model_setting("path"),
        prompt_format=model_setting("prompt_format"),
        settings=lambda wc: finetune_settings(wc.task)
        | {"max_train_pairs": int(wc.size)},
        work_root=lambda wc: run_path(
            f"learning_curve/n{wc.size}/finetune/{wc.model}/{wc.task}.work"
        ),


use rule predict as predict_subset with:
    input:
        base=model_file("config.json"),
        eval=run_path("pairs/{task}/eval.parquet"),
        adapter=curve_path("finetune/{model}/{task}/adapter"),
    output:
        eval=[
            curve_path(f"predictions/{{model}}/finetuned/{{task}}/T{CURVE_T}.parquet")
        ],
    log:
        run_path("logs/learning_curve/n{size}/predict/{model}/{task}.log"),
    benchmark:
        run_path("benchmarks/learning_curve/n{size}/predict/{model}/{task}.tsv")
    wildcard_constraints:
        size=r"\d+",
    params:
        base_dir=model_setting("path"),
        prompt_format=model_setting("prompt_format"),
        settings=predict_settings() | {"temperatures": [CURVE_TEMPERATURE]},
        variants=[TRAINED_VARIANT],
        splits=["eval"],
        prompting=None,


use rule score as score_subset with:
    input:
        pairs=run_path("pairs/{task}/eval.parquet"),
        predictions=[
            curve_path(f"predictions/{{model}}/finetuned/{{task}}/T{CURVE_T}.parquet")
        ],
    output:
        cases=[curve_path(f"metrics/{{model}}/finetuned/{{task}}/T{CURVE_T}.parquet")],
        summaries=[curve_path("metrics/{model}/finetuned/{task}/summary.csv")],
    log:
        run_path("logs/learning_curve/n{size}/score/{model}/{task}.log"),
    benchmark:
        run_path("benchmarks/learning_curve/n{size}/score/{model}/{task}.tsv")
    wildcard_constraints:
        size=r"\d+",
    params:
        variants=[TRAINED_VARIANT],
        splits=["eval"],
        temperatures=[CURVE_TEMPERATURE],
        scoring=SCORING,


rule learning_curve:
    input:
        plan=run_path("analysis_plan.yaml"),
        curve=expand(
            curve_path("metrics/{model}/finetuned/{task}/summary.csv"),
            size=CURVE["sizes"],
            model=CURVE_MODELS,
            task=CURVE_TASKS,
        ),
        curve_cards=expand(
            curve_path("finetune/{model}/{task}/model_card.json"),
            size=CURVE["sizes"],
            model=CURVE_MODELS,
            task=CURVE_TASKS,
        ),
        full=expand(
            run_path("metrics/{model}/{variant}/{task}/summary.csv"),
            model=CURVE_MODELS,
            variant=VARIANTS,
            task=CURVE_TASKS,
        ),
        full_cards=expand(
            run_path("finetune/{model}/{task}/model_card.json"),
            model=CURVE_MODELS,
            task=CURVE_TASKS,
        ),
        baselines=[
            run_path(f"metrics/baselines/{t}/{n}.csv")
            for t in CURVE_TASKS
            for n in BASELINES[t]
        ],
        selection_baselines=[
            run_path(f"metrics/baselines/{t}/selection/{n}.csv")
            for t in CURVE_TASKS
            for n in BASELINES[t]
        ],
    output:
        table=report(
            run_path("tables/learning_curve.csv"),
            caption="../report/learning_curve.rst",
            category="Tables",
        ),
        png=report(
            run_path("figures/learning_curve.png"),
            caption="../report/learning_curve.rst",
            category="Figures",
        ),
        pdf=run_path("figures/learning_curve.pdf"),
    log:
        run_path("logs/learning_curve.log"),
    conda:
        "../envs/evaluate.yaml"
    resources:
        **slurm_placement(0),
    params:
        temperature=CURVE_TEMPERATURE,
        full_keys=keys_of(model=CURVE_MODELS, variant=VARIANTS, task=CURVE_TASKS),
        card_keys=keys_of(model=CURVE_MODELS, task=CURVE_TASKS),
    script:
        "../scripts/learning_curve.py"
