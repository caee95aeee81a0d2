# Metrics per prediction file, then the paper's tables (Table 1, supplementary) and figures.
rule score:
    input:
        pairs="results/pairs/{task}/eval.parquet",
        predictions=expand(
            "results/predictions/{{model}}/{{variant}}/{{task}}/T{temperature}.parquet",
            temperature=TEMPERATURES,
        ),
    output:
        cases=expand(
            "results/metrics/{{model}}/{{variant}}/{{task}}/T{temperature}.parquet",
            temperature=TEMPERATURES,
        ),
        summary="results/metrics/{model}/{variant}/{task}/summary.csv",
    params:
        temperatures=config["predict"]["temperatures"],
        bootstrap=config["metrics"]["bootstrap"],
        alpha_beta=config["metrics"]["alpha_beta"],
    wildcard_constraints:
        variant="|".join(VARIANTS),
    resources:
        **slurm_placement(0),
    log:
        "results/logs/score/{model}/{variant}/{task}.log",
    benchmark:
        "results/benchmarks/score/{model}/{variant}/{task}.tsv"
    conda:
        "../envs/evaluate.yaml"
    script:
        "../scripts/score.py"


# Classical baselines on the same split, scored like the models (deterministic: no temperature).
rule baselines:
    input:
        train="results/pairs/{task}/train.parquet",
        eval="results/pairs/{task}/eval.parquet",
    output:
        cases="results/metrics/baselines/{task}/{baseline}.parquet",
        summary="results/metrics/baselines/{task}/{baseline}.csv",
    params:
        bootstrap=config["metrics"]["bootstrap"],
        alpha_beta=config["metrics"]["alpha_beta"],
    wildcard_constraints:
        baseline="|".join(sorted({n for names in BASELINES.values() for n in names})),
    resources:
        **slurm_placement(0),
    log:
        "results/logs/baselines/{task}/{baseline}.log",
    benchmark:
        "results/benchmarks/baselines/{task}/{baseline}.tsv"
    conda:
        "../envs/evaluate.yaml"
    script:
        "../scripts/baselines.py"


rule evaluation_tables:
    input:
        summaries=expand(
            "results/metrics/{model}/{variant}/{task}/summary.csv",
            model=MODELS,
            variant=VARIANTS,
            task=TASKS,
        ),
        cases=expand(
            "results/metrics/{model}/{variant}/{task}/T{temperature}.parquet",
            model=MODELS,
            variant=VARIANTS,
            task=TASKS,
            temperature=TEMPERATURES,
        ),
        curated="results/data/cases.parquet",
        baselines=[f"results/metrics/baselines/{t}/{n}.csv" for t in TASKS for n in BASELINES[t]],
        baseline_cases=[f"results/metrics/baselines/{t}/{n}.parquet" for t in TASKS for n in BASELINES[t]],
    output:
        table1=report("results/tables/table1.csv", caption="../report/table1.rst", category="Tables"),
        by_temperature=report(
            "results/tables/metrics_by_temperature.csv",
            caption="../report/metrics_by_temperature.rst",
            category="Tables",
        ),
        model_vs_model=report(
            "results/tables/model_vs_model.csv",
            caption="../report/model_vs_model.rst",
            category="Tables",
        ),
        modality_prf=report(
            "results/tables/modality_prf.csv", caption="../report/prf.rst", category="Tables"
        ),
        icd10_prf=report("results/tables/icd10_prf.csv", caption="../report/prf.rst", category="Tables"),
        icd10_confusion=report(
            "results/tables/icd10_confusion.csv",
            caption="../report/confusion.rst",
            category="Tables",
        ),
        regimen_proxy=report(
            "results/tables/regimen_proxy.csv", caption="../report/regimen_proxy.rst", category="Tables"
        ),
        paired_tests=report(
            "results/tables/paired_tests.csv", caption="../report/paired_tests.rst", category="Tables"
        ),
        baselines=report("results/tables/baselines.csv", caption="../report/baselines.rst", category="Tables"),
        by_group=report("results/tables/by_group.csv", caption="../report/by_group.rst", category="Tables"),
        top_confusions=report(
            "results/tables/top_confusions.csv", caption="../report/by_group.rst", category="Tables"
        ),
    params:
        models=MODELS,
        report_temperature=config["metrics"]["report_temperature"],
        bootstrap=config["metrics"]["bootstrap"],
    resources:
        **slurm_placement(0),
    log:
        "results/logs/evaluation_tables.log",
    conda:
        "../envs/evaluate.yaml"
    script:
        "../scripts/evaluation_tables.py"


rule evaluation_figures:
    input:
        table1="results/tables/table1.csv",
        by_temperature="results/tables/metrics_by_temperature.csv",
        modality_prf="results/tables/modality_prf.csv",
        icd10_prf="results/tables/icd10_prf.csv",
        icd10_confusion="results/tables/icd10_confusion.csv",
        regimen_proxy="results/tables/regimen_proxy.csv",
        paired_tests="results/tables/paired_tests.csv",
        baselines="results/tables/baselines.csv",
        by_group="results/tables/by_group.csv",
    output:
        figure3_png=report("results/figures/figure3_highest_median.png", caption="../report/figure3.rst", category="Figures"),
        figure3_pdf="results/figures/figure3_highest_median.pdf",
        scan_png=report("results/figures/temperature_scan.png", caption="../report/temperature_scan.rst", category="Figures"),
        scan_pdf="results/figures/temperature_scan.pdf",
        modality_png=report("results/figures/figure5c_modality_prf.png", caption="../report/prf.rst", category="Figures"),
        modality_pdf="results/figures/figure5c_modality_prf.pdf",
        icd10_png=report("results/figures/figure5d_icd10_prf.png", caption="../report/prf.rst", category="Figures"),
        icd10_pdf="results/figures/figure5d_icd10_prf.pdf",
        confusion_png=report("results/figures/figure6_icd10_confusion.png", caption="../report/confusion.rst", category="Figures"),
        confusion_pdf="results/figures/figure6_icd10_confusion.pdf",
        proxy_png=report(
            "results/figures/figure5ab_proxy_grades.png",
            caption="../report/regimen_proxy.rst",
            category="Figures",
        ),
        proxy_pdf="results/figures/figure5ab_proxy_grades.pdf",
        paired_png=report(
            "results/figures/paired_differences.png",
            caption="../report/paired_tests.rst",
            category="Figures",
        ),
        paired_pdf="results/figures/paired_differences.pdf",
        by_site_png=report("results/figures/by_site.png", caption="../report/by_group.rst", category="Figures"),
        by_site_pdf="results/figures/by_site.pdf",
    params:
        report_temperature=config["metrics"]["report_temperature"],
    resources:
        **slurm_placement(0),
    log:
        "results/logs/evaluation_figures.log",
    conda:
        "../envs/evaluate.yaml"
    script:
        "../scripts/evaluation_figures.py"


rule evaluation:
    input:
        rules.evaluation_tables.output,
        rules.evaluation_figures.output,
