# Blinded grading sheets of the generated regimens for the clinicians; once their graded sheets are
# in results/<run>/grading/returned/, the un-blinded grades, adjudication list, distributions and agreement.
GRADERS = config["grading"]["graders"]


rule grading_sheets:
    input:
        pairs=run_path("pairs/regimen/eval.parquet"),
        cases=run_path("data/cases.parquet"),  # the disease sites the sample is stratified by
        # the arms' settings, chosen on the selection pairs, never on the eval cases graded
        paired=run_path("tables/paired_tests.csv"),
        scored=expand(
            run_path("metrics/{model}/{variant}/regimen/T{temperature}.parquet"),
            model=MODELS,
            variant=VARIANTS,
            temperature=TEMPERATURES,
        ),
        baselines=expand(
            run_path("metrics/baselines/regimen/{baseline}.parquet"),
            baseline=BASELINES["regimen"],
        ),
    output:
        sheets=report(
            expand(
                run_path(f"grading/sheets/{{grader}}.{SHEET_FORMAT}"), grader=GRADERS
            ),
            caption="../report/grading_sheets.rst",
            category="Grading",
        ),
        key=run_path("grading/key.csv"),
    log:
        run_path("logs/grading_sheets.log"),
    conda:
        "../envs/evaluate.yaml"
    resources:
        **slurm_placement(0),
    params:
        graders=GRADERS,
        arms=config["grading"]["arms"],
        cases=config["grading"]["cases"],
        seed=config["grading"]["seed"],
        temperature=config["grading"]["temperature"],
        scored_keys=keys_of(model=MODELS, variant=VARIANTS, temperature=TEMPERATURES),
        baseline_names=BASELINES["regimen"],
        issued=run_path("grading/issued"),
        returned=RETURNED,
    script:
        "../scripts/grading_sheets.py"


rule grading_results:
    input:
        key=run_path("grading/key.csv"),
        sheets=expand(
            run_path(f"grading/sheets/{{grader}}.{SHEET_FORMAT}"), grader=GRADERS
        ),
        graded=returned_sheets(),
        adjudication=adjudication_input(),
    output:
        grades=run_path("grading/grades.csv"),
        adjudication=report(
            run_path("grading/adjudication_needed.csv"),
            caption="../report/grading_results.rst",
            category="Grading",
        ),
        distribution=report(
            run_path("grading/grade_distribution.csv"),
            caption="../report/grading_results.rst",
            category="Grading",
        ),
        agreement=report(
            run_path("grading/agreement.csv"),
            caption="../report/grading_results.rst",
            category="Grading",
        ),
        arms=report(
            run_path("grading/arm_comparisons.csv"),
            caption="../report/grading_results.rst",
            category="Grading",
        ),
        raters=report(
            run_path("grading/raters.csv"),
            caption="../report/grading_results.rst",
            category="Grading",
        ),
        figure_png=report(
            run_path("grading/figure5ab_human_grades.png"),
            caption="../report/grading_results.rst",
            category="Grading",
        ),
        figure_pdf=run_path("grading/figure5ab_human_grades.pdf"),
        proxy_confusion=report(
            run_path("grading/proxy_vs_human.csv"),
            caption="../report/grading_results.rst",
            category="Grading",
        ),
    log:
        run_path("logs/grading_results.log"),
    conda:
        "../envs/evaluate.yaml"
    resources:
        **slurm_placement(0),
    params:
        graders=GRADERS,
        # the agreement's bootstrap intervals: the metrics' resamples and confidence, the grading's seed
        bootstrap=config["metrics"]["bootstrap"] | {"seed": config["grading"]["seed"]},
        adjudication=lambda wildcards, input: (
            input.adjudication if input.adjudication else ""
        ),
    script:
        "../scripts/grading_results.py"


rule grading:
    input:
        rules.grading_sheets.output,
        rules.grading_results.output if graded_sheets_present() else [],
