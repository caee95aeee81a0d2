# The study report of the run: data, models and training, inference, the pre-specified analysis, the results
# with each primary comparison in one sentence, and the limitations that apply, from the run's own files only.
rule study_report:
    input:
        unpack(study_report_inputs),
    output:
        markdown=report(
            run_path("study_report.md"),
            caption="../report/study_report.rst",
            category="Study report",
        ),
        html=report(
            run_path("study_report.html"),
            caption="../report/study_report.rst",
            category="Study report",
        ),
    log:
        run_path("logs/study_report.log"),
    conda:
        "../envs/train.yaml"
    resources:
        **slurm_placement(0),
    params:
        facts=study_report_facts(),
    script:
        "../scripts/study_report.py"
