# The prompting variants: the vanilla base shown k solved training cases in its prompt (fewshot: the same
# seeded draw for every case; retrieved: the cases most similar to this one), drawn from the adapter's
# training pairs (equal data) and, on the eval pairs, from every train pair (all_pairs/: the "all train pairs"
# rows). One job per model and task writes every prompting variant at every temperature; included only when
# prompting.variants names some.
use rule predict as predict_prompted with:
    input:
        unpack(prompted_inputs),
    output:
        eval=expand(
            run_path(
                "predictions/{{model}}/{variant}/{{task}}/T{temperature}.parquet"
            ),
            variant=PROMPTED,
            temperature=TEMPERATURES,
        ),
        selection=expand(
            run_path(
                "predictions/{{model}}/{variant}/{{task}}/selection/T{temperature}.parquet"
            ),
            variant=PROMPTED,
            temperature=TEMPERATURES,
        ),
        all_pairs=expand(
            run_path(
                "predictions/{{model}}/{variant}/{{task}}/all_pairs/T{temperature}.parquet"
            ),
            variant=PROMPTED,
            temperature=TEMPERATURES,
        ),
    log:
        run_path("logs/predict/{model}/prompted/{task}.log"),
    benchmark:
        run_path("benchmarks/predict/{model}/prompted/{task}.tsv")
    priority: 2
    params:
        base_dir=model_setting("path"),
        prompt_format=model_setting("prompt_format"),
        settings=predict_settings(),
        variants=PROMPTED,
        splits=["eval", "selection", "all_pairs"],
        prompting=config["prompting"],
