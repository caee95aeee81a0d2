# Metrics per prediction file, then the paper's tables (Table 1, supplementary) and figures.
# One job per model and task scores every variant (the scoring's imports cost more than the scoring), on the
# eval pairs and on the selection pairs (summaries only: where temperatures and competitors are chosen), and
# the prompting variants shown every train pair (all_pairs/).
rule score:
    input:
        pairs=run_path("pairs/{task}/eval.parquet"),
        predictions=expand(
            run_path(
                "predictions/{{model}}/{variant}/{{task}}/T{temperature}.parquet"
            ),
            variant=VARIANTS,
            temperature=TEMPERATURES,
        ),
        selection=run_path("pairs/{task}/selection.parquet"),
        selection_predictions=expand(
            run_path(
                "predictions/{{model}}/{variant}/{{task}}/selection/T{temperature}.parquet"
            ),
            variant=VARIANTS,
            temperature=TEMPERATURES,
        ),
        all_pairs_predictions=expand(
            run_path(
                "predictions/{{model}}/{variant}/{{task}}/all_pairs/T{temperature}.parquet"
            ),
            variant=PROMPTED,
            temperature=TEMPERATURES,
        ),
    output:
        cases=expand(
            run_path("metrics/{{model}}/{variant}/{{task}}/T{temperature}.parquet"),
            variant=VARIANTS,
            temperature=TEMPERATURES,
        ),
        all_pairs_cases=expand(
            run_path(
                "metrics/{{model}}/{variant}/{{task}}/all_pairs/T{temperature}.parquet"
            ),
            variant=PROMPTED,
            temperature=TEMPERATURES,
        ),
        all_pairs_summaries=expand(
            run_path("metrics/{{model}}/{variant}/{{task}}/all_pairs/summary.csv"),
            variant=PROMPTED,
        ),
        summaries=expand(
            run_path("metrics/{{model}}/{variant}/{{task}}/summary.csv"),
            variant=VARIANTS,
        ),
        selection_summaries=expand(
            run_path("metrics/{{model}}/{variant}/{{task}}/selection/summary.csv"),
            variant=VARIANTS,
        ),
    log:
        run_path("logs/score/{model}/{task}.log"),
    benchmark:
        run_path("benchmarks/score/{model}/{task}.tsv")
    conda:
        "../envs/evaluate.yaml"
    resources:
        **slurm_placement(0),
    params:
        variants=VARIANTS,
        splits=["eval", "selection"],
        all_pairs_variants=PROMPTED,
        temperatures=config["predict"]["temperatures"],
        scoring=SCORING,
    script:
        "../scripts/score.py"


# Classical baselines on the same split, scored like the models (deterministic: no temperature): fitted on the
# adapter's training pairs (equal data; they hold no selection pair), scored on the eval pairs and on the
# selection pairs, where the task's best baseline is chosen; and (baselines_all_pairs) fitted on every train
# pair, scored on the eval pairs: the "all train pairs" rows.
rule baselines:
    input:
        train=run_path("pairs/{task}/learned.parquet"),
        eval=run_path("pairs/{task}/eval.parquet"),
        selection=run_path("pairs/{task}/selection.parquet"),
    output:
        cases=run_path("metrics/baselines/{task}/{baseline}.parquet"),
        summary=run_path("metrics/baselines/{task}/{baseline}.csv"),
        selection_summary=run_path("metrics/baselines/{task}/selection/{baseline}.csv"),
    log:
        run_path("logs/baselines/{task}/{baseline}.log"),
    benchmark:
        run_path("benchmarks/baselines/{task}/{baseline}.tsv")
    wildcard_constraints:
        baseline=BASELINE_NAMES,
    priority: 2
    conda:
        "../envs/evaluate.yaml"
    resources:
        **slurm_placement(0),
    params:
        scoring=SCORING,
        code=source_fingerprint("baselines"),  # the baselines' settings live in the package: a change refits them
    script:
        "../scripts/baselines.py"


use rule baselines as baselines_all_pairs with:
    input:
        train=run_path("pairs/{task}/train.parquet"),
        eval=run_path("pairs/{task}/eval.parquet"),
    output:
        cases=run_path("metrics/baselines/{task}/all_pairs/{baseline}.parquet"),
        summary=run_path("metrics/baselines/{task}/all_pairs/{baseline}.csv"),
    log:
        run_path("logs/baselines/{task}/all_pairs/{baseline}.log"),
    benchmark:
        run_path("benchmarks/baselines/{task}/all_pairs/{baseline}.tsv")


# The pre-specified analysis, from the config alone: written before any eval score can be read.
rule analysis_plan:
    output:
        report(
            run_path("analysis_plan.yaml"),
            caption="../report/analysis_plan.rst",
            category="Tables",
        ),
    log:
        run_path("logs/analysis_plan.log"),
    conda:
        "../envs/evaluate.yaml"
    resources:
        **slurm_placement(0),
    params:
        plan=config["statistics"]["plan"],
        statistics={k: v for k, v in config["statistics"].items() if k != "plan"},
        bootstrap=config["metrics"]["bootstrap"],
        models=MODELS,
        tasks=TASKS,
        seeds=SEEDS,
    script:
        "../scripts/analysis_plan.py"


rule evaluation_tables:
    input:
        plan=run_path("analysis_plan.yaml"),
        # how many labelled pairs each predictor learned from: the adapters' cards, the train pairs and the
        # adapters' training pairs
        cards=expand(
            run_path("finetune/{model}/{task}/model_card.json"),
            model=MODELS,
            task=TASKS,
        ),
        train=expand(run_path("pairs/{task}/train.parquet"), task=TASKS),
        learned=expand(run_path("pairs/{task}/learned.parquet"), task=TASKS),
        summaries=expand(
            run_path("metrics/{model}/{variant}/{task}/summary.csv"),
            model=MODELS,
            variant=VARIANTS,
            task=TASKS,
        ),
        cases=expand(
            run_path("metrics/{model}/{variant}/{task}/T{temperature}.parquet"),
            model=MODELS,
            variant=VARIANTS,
            task=TASKS,
            temperature=TEMPERATURES,
        ),
        curated=run_path("data/cases.parquet"),
        baselines=[
            run_path(f"metrics/baselines/{t}/{n}.csv")
            for t in TASKS
            for n in BASELINES[t]
        ],
        baseline_cases=[
            run_path(f"metrics/baselines/{t}/{n}.parquet")
            for t in TASKS
            for n in BASELINES[t]
        ],
        all_pairs_baselines=[
            run_path(f"metrics/baselines/{t}/all_pairs/{n}.csv")
            for t in TASKS
            for n in BASELINES[t]
        ],
        all_pairs_baseline_cases=[
            run_path(f"metrics/baselines/{t}/all_pairs/{n}.parquet")
            for t in TASKS
            for n in BASELINES[t]
        ],
        all_pairs_summaries=expand(
            run_path("metrics/{model}/{variant}/{task}/all_pairs/summary.csv"),
            model=MODELS,
            variant=PROMPTED,
            task=TASKS,
        ),
        all_pairs_cases=expand(
            run_path(
                "metrics/{model}/{variant}/{task}/all_pairs/T{temperature}.parquet"
            ),
            model=MODELS,
            variant=PROMPTED,
            task=TASKS,
            temperature=TEMPERATURES,
        ),
        selection_summaries=expand(
            run_path("metrics/{model}/{variant}/{task}/selection/summary.csv"),
            model=MODELS,
            variant=VARIANTS,
            task=TASKS,
        ),
        selection_baselines=[
            run_path(f"metrics/baselines/{t}/selection/{n}.csv")
            for t in TASKS
            for n in BASELINES[t]
        ],
        # the further training seeds' (finetune.seeds): the paired tests average the fine-tuned side over seeds
        seed_cases=[
            run_path(f"seeds/seed{s}/metrics/{m}/{TRAINED_VARIANT}/{t}/T{T}.parquet")
            for s in FURTHER_SEEDS
            for m in MODELS
            for t in TASKS
            for T in TEMPERATURES
        ],
        seed_selection_summaries=[
            run_path(
                f"seeds/seed{s}/metrics/{m}/{TRAINED_VARIANT}/{t}/selection/summary.csv"
            )
            for s in FURTHER_SEEDS
            for m in MODELS
            for t in TASKS
        ],
    output:
        table1=report(
            run_path("tables/table1.csv"),
            caption="../report/table1.rst",
            category="Tables",
        ),
        ranking=report(
            run_path("tables/ranking.csv"),
            caption="../report/ranking.rst",
            category="Tables",
        ),
        by_temperature=report(
            run_path("tables/metrics_by_temperature.csv"),
            caption="../report/metrics_by_temperature.rst",
            category="Tables",
        ),
        model_vs_model=report(
            run_path("tables/model_vs_model.csv"),
            caption="../report/model_vs_model.rst",
            category="Tables",
        ),
        modality_prf=report(
            run_path("tables/modality_prf.csv"),
            caption="../report/prf.rst",
            category="Tables",
        ),
        icd10_prf=report(
            run_path("tables/icd10_prf.csv"),
            caption="../report/prf.rst",
            category="Tables",
        ),
        icd10_confusion=report(
            run_path("tables/icd10_confusion.csv"),
            caption="../report/confusion.rst",
            category="Tables",
        ),
        regimen_proxy=report(
            run_path("tables/regimen_proxy.csv"),
            caption="../report/regimen_proxy.rst",
            category="Tables",
        ),
        paired_tests=report(
            run_path("tables/paired_tests.csv"),
            caption="../report/paired_tests.rst",
            category="Tables",
        ),
        baselines=report(
            run_path("tables/baselines.csv"),
            caption="../report/baselines.rst",
            category="Tables",
        ),
        by_group=report(
            run_path("tables/by_group.csv"),
            caption="../report/by_group.rst",
            category="Tables",
        ),
        top_confusions=report(
            run_path("tables/top_confusions.csv"),
            caption="../report/by_group.rst",
            category="Tables",
        ),
    log:
        run_path("logs/evaluation_tables.log"),
    conda:
        "../envs/evaluate.yaml"
    resources:
        **slurm_placement(0),
    params:
        models=MODELS,
        report_temperature=config["metrics"]["report_temperature"],
        bootstrap=config["metrics"]["bootstrap"],
        case_keys=keys_of(
            model=MODELS, variant=VARIANTS, task=TASKS, temperature=TEMPERATURES
        ),
        baseline_keys=[[n, t] for t in TASKS for n in BASELINES[t]],
        all_pairs_keys=keys_of(
            model=MODELS, variant=PROMPTED, task=TASKS, temperature=TEMPERATURES
        ),
        card_keys=keys_of(model=MODELS, task=TASKS),
        seed_case_keys=keys_of(
            seed=FURTHER_SEEDS, model=MODELS, task=TASKS, temperature=TEMPERATURES
        ),
        seed_keys=keys_of(seed=FURTHER_SEEDS, model=MODELS, task=TASKS),
        tasks=TASKS,
        statistics_temperature=config["statistics"]["temperature"],
    script:
        "../scripts/evaluation_tables.py"


rule evaluation_figures:
    input:
        table1=run_path("tables/table1.csv"),
        by_temperature=run_path("tables/metrics_by_temperature.csv"),
        modality_prf=run_path("tables/modality_prf.csv"),
        icd10_prf=run_path("tables/icd10_prf.csv"),
        icd10_confusion=run_path("tables/icd10_confusion.csv"),
        regimen_proxy=run_path("tables/regimen_proxy.csv"),
        paired_tests=run_path("tables/paired_tests.csv"),
        baselines=run_path("tables/baselines.csv"),
        by_group=run_path("tables/by_group.csv"),
    output:
        figure3_png=report(
            run_path("figures/figure3_highest_median.png"),
            caption="../report/figure3.rst",
            category="Figures",
        ),
        figure3_pdf=run_path("figures/figure3_highest_median.pdf"),
        scan_png=report(
            run_path("figures/temperature_scan.png"),
            caption="../report/temperature_scan.rst",
            category="Figures",
        ),
        scan_pdf=run_path("figures/temperature_scan.pdf"),
        modality_png=report(
            run_path("figures/figure5c_modality_prf.png"),
            caption="../report/prf.rst",
            category="Figures",
        ),
        modality_pdf=run_path("figures/figure5c_modality_prf.pdf"),
        icd10_png=report(
            run_path("figures/figure5d_icd10_prf.png"),
            caption="../report/prf.rst",
            category="Figures",
        ),
        icd10_pdf=run_path("figures/figure5d_icd10_prf.pdf"),
        confusion_png=report(
            run_path("figures/figure6_icd10_confusion.png"),
            caption="../report/confusion.rst",
            category="Figures",
        ),
        confusion_pdf=run_path("figures/figure6_icd10_confusion.pdf"),
        proxy_png=report(
            run_path("figures/figure5ab_proxy_grades.png"),
            caption="../report/regimen_proxy.rst",
            category="Figures",
        ),
        proxy_pdf=run_path("figures/figure5ab_proxy_grades.pdf"),
        paired_png=report(
            run_path("figures/paired_differences.png"),
            caption="../report/paired_tests.rst",
            category="Figures",
        ),
        paired_pdf=run_path("figures/paired_differences.pdf"),
        by_site_png=report(
            run_path("figures/by_site.png"),
            caption="../report/by_group.rst",
            category="Figures",
        ),
        by_site_pdf=run_path("figures/by_site.pdf"),
    log:
        run_path("logs/evaluation_figures.log"),
    conda:
        "../envs/evaluate.yaml"
    resources:
        **slurm_placement(0),
    params:
        report_temperature=config["metrics"]["report_temperature"],
    script:
        "../scripts/evaluation_figures.py"


rule evaluation:
    input:
        rules.evaluation_tables.output,
        rules.evaluation_figures.output,
        [run_path("tables/seeds.csv")] if FURTHER_SEEDS else [],
