# The learning curve: at each size (learning_curve.sizes), the pairs an adapter would train on (a nested seeded
# subset of the train pairs), and on exactly those pairs an adapter, the prompting variants' pool of solved
# cases and the classical baselines, each predicted and scored on the eval pairs at one temperature like the
# run's own; then drawn against training pairs, every method at every size (equal data), the run's own as the
# last point. Everything under results/<run>/learning_curve/n<size>/ mirrors the run's own pairs/, finetune/,
# predictions/ and metrics/; its own target: snakemake learning_curve.
rule learned_pairs_subset:
    input:
        train=run_path("pairs/{task}/train.parquet"),
    output:
        learned=curve_path("pairs/{task}/learned.parquet"),
    log:
        run_path("logs/learning_curve/n{size}/learned_pairs/{task}.log"),
    wildcard_constraints:
        size=r"\d+",
    conda:
        "../envs/data.yaml"
    resources:
        **slurm_placement(0),
    params:
        finetune=lambda wc: held_out_settings(wc.task)
        | {"max_train_pairs": int(wc.size)},
    script:
        "../scripts/learned_pairs.py"


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


# the prompting variants at each size, where the run has some (prompting.variants)
if PROMPTED:

    use rule predict_prompted as predict_prompted_subset with:
        input:
            base=model_file("config.json"),
            eval=run_path("pairs/{task}/eval.parquet"),
            train=curve_path("pairs/{task}/learned.parquet"),
        output:
            eval=[
                curve_path(
                    f"predictions/{{model}}/{variant}/{{task}}/T{CURVE_T}.parquet"
                )
                for variant in PROMPTED
            ],
        log:
            run_path("logs/learning_curve/n{size}/predict/{model}/prompted/{task}.log"),
        benchmark:
            run_path(
                "benchmarks/learning_curve/n{size}/predict/{model}/prompted/{task}.tsv"
            )
        wildcard_constraints:
            size=r"\d+",
        params:
            base_dir=model_setting("path"),
            prompt_format=model_setting("prompt_format"),
            settings=predict_settings() | {"temperatures": [CURVE_TEMPERATURE]},
            variants=PROMPTED,
            splits=["eval"],
            prompting=config["prompting"],


use rule baselines_all_pairs as baselines_subset with:
    input:
        train=curve_path("pairs/{task}/learned.parquet"),
        eval=run_path("pairs/{task}/eval.parquet"),
    output:
        cases=curve_path("metrics/baselines/{task}/{baseline}.parquet"),
        summary=curve_path("metrics/baselines/{task}/{baseline}.csv"),
    log:
        run_path("logs/learning_curve/n{size}/baselines/{task}/{baseline}.log"),
    benchmark:
        run_path("benchmarks/learning_curve/n{size}/baselines/{task}/{baseline}.tsv")
    wildcard_constraints:
        size=r"\d+",
        baseline=BASELINE_NAMES,


use rule score as score_subset with:
    input:
        pairs=run_path("pairs/{task}/eval.parquet"),
        predictions=[
            curve_path(f"predictions/{{model}}/{variant}/{{task}}/T{CURVE_T}.parquet")
            for variant in CURVE_VARIANTS
        ],
    output:
        cases=[
            curve_path(f"metrics/{{model}}/{variant}/{{task}}/T{CURVE_T}.parquet")
            for variant in CURVE_VARIANTS
        ],
        summaries=[
            curve_path(f"metrics/{{model}}/{variant}/{{task}}/summary.csv")
            for variant in CURVE_VARIANTS
        ],
    log:
        run_path("logs/learning_curve/n{size}/score/{model}/{task}.log"),
    benchmark:
        run_path("benchmarks/learning_curve/n{size}/score/{model}/{task}.tsv")
    wildcard_constraints:
        size=r"\d+",
    params:
        variants=CURVE_VARIANTS,
        splits=["eval"],
        all_pairs_variants=[],
        temperatures=[CURVE_TEMPERATURE],
        scoring=SCORING,


rule learning_curve:
    input:
        plan=run_path("analysis_plan.yaml"),
        curve=expand(
            curve_path("metrics/{model}/{variant}/{task}/summary.csv"),
            size=CURVE["sizes"],
            model=CURVE_MODELS,
            variant=CURVE_VARIANTS,
            task=CURVE_TASKS,
        ),
        curve_cards=expand(
            curve_path("finetune/{model}/{task}/model_card.json"),
            size=CURVE["sizes"],
            model=CURVE_MODELS,
            task=CURVE_TASKS,
        ),
        curve_learned=expand(
            curve_path("pairs/{task}/learned.parquet"),
            size=CURVE["sizes"],
            task=CURVE_TASKS,
        ),
        curve_baselines=[
            curve_path(f"metrics/baselines/{t}/{n}.csv").format(size=size)
            for size in CURVE["sizes"]
            for t in CURVE_TASKS
            for n in BASELINES[t]
        ],
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
        full_learned=expand(run_path("pairs/{task}/learned.parquet"), task=CURVE_TASKS),
        train=expand(run_path("pairs/{task}/train.parquet"), task=CURVE_TASKS),
        baselines=[
            run_path(f"metrics/baselines/{t}/{n}.csv")
            for t in CURVE_TASKS
            for n in BASELINES[t]
        ],
        all_pairs_baselines=[
            run_path(f"metrics/baselines/{t}/all_pairs/{n}.csv")
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
        curve_keys=keys_of(
            size=CURVE["sizes"],
            model=CURVE_MODELS,
            variant=CURVE_VARIANTS,
            task=CURVE_TASKS,
        ),
        curve_card_keys=keys_of(
            size=CURVE["sizes"], model=CURVE_MODELS, task=CURVE_TASKS
        ),
        curve_learned_keys=keys_of(size=CURVE["sizes"], task=CURVE_TASKS),
        curve_baseline_keys=[
            [size, n, t]
            for size in CURVE["sizes"]
            for t in CURVE_TASKS
            for n in BASELINES[t]
        ],
        full_keys=keys_of(model=CURVE_MODELS, variant=VARIANTS, task=CURVE_TASKS),
        card_keys=keys_of(model=CURVE_MODELS, task=CURVE_TASKS),
        tasks=CURVE_TASKS,
        learners=CURVE_VARIANTS,
    script:
        "../scripts/learning_curve.py"
