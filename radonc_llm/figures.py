"""The paper's figures from the metric tables: Figure 3, the temperature scans, Figure 5c/d and
Figure 6. PNG (150 dpi) and PDF, with stable bytes (no timestamps in the metadata)."""
from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .tasks import ORDER as TASK_ORDER  # noqa: E402
from .tasks import CLASSIFYING, FREE_TEXT, TASKS  # noqa: E402
from .variants import ORDER as VARIANT_ORDER  # noqa: E402
from .variants import TRAINED, VARIANTS, ZERO_SHOT, parse_predictor_label, temperature_name  # noqa: E402
from .variants import display_name as variant_name  # noqa: E402

MODEL_STYLES = ["-", "--", ":", "-."]


def predictor_name(label: str) -> str:
    """A predictor as figures name it: 'tiny-llama fewshot (T=0.2)' is 'tiny-llama few-shot' (its temperature
    is in the tables); a baseline as it is."""
    model, variant = parse_predictor_label(label)
    return f"{model} {variant_name(variant)}" if variant else label


def save(fig, png: str, pdf: str):
    """Write the figure as PNG and PDF and close it; the figure, for a reader of its axes (tests)."""
    fig.savefig(png, dpi=150, metadata={"Software": None})
    fig.savefig(pdf, metadata={"CreationDate": None, "Producer": None, "Creator": None})
    plt.close(fig)
    return fig


def tidy(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def highest_and_median(table1: pd.DataFrame, png: str, pdf: str) -> plt.Figure:
    """Figure 3: per task, per model, the highest (bar) and median (dark tick) headline metric over
    the temperature scan, vanilla next to fine-tuned, with the Wilcoxon p above each pair."""
    rows = table1[table1["task"] != "overall"]
    tasks = [t for t in TASK_ORDER if t in set(rows["task"])]
    models = list(dict.fromkeys(rows["model"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 4.4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for m, model in enumerate(models):
            r = rows[(rows["task"] == task) & (rows["model"] == model)].iloc[0]
            for v, variant in enumerate((ZERO_SHOT, TRAINED)):
                x = m * 2.6 + v
                ax.bar(x, r[f"{variant}_highest"], color=VARIANTS[variant].color, width=0.85,
                       label=variant_name(variant) + " (highest)" if m == 0 else None)
                ax.hlines(r[f"{variant}_median"], x - 0.42, x + 0.42, color="black", lw=2,
                          label="median over temperatures" if m == 0 and v == 1 else None)
                ax.text(x, r[f"{variant}_highest"] + 0.02, f"{r[f'{variant}_highest']:.2f}", ha="center", fontsize=9)
            top = max(r[f"{ZERO_SHOT}_highest"], r[f"{TRAINED}_highest"])
            ax.text(m * 2.6 + 0.5, min(top + 0.12, 1.1), f"p = {r['p_value']:.2g}", ha="center", fontsize=9,
                    color="#b22222")
        ax.set_xticks([m * 2.6 + 0.5 for m in range(len(models))], models)
        ax.set_ylim(0, 1.18)
        ax.set_title(f"{TASKS[task].title}\n{TASKS[task].metric}", fontsize=11)
        tidy(ax)
    axes[0][0].set_ylabel("score over the temperature scan")
    axes[0][-1].legend(loc="upper right", fontsize=8, frameon=False)
    fig.suptitle("Fine-tuned vs vanilla: highest and median over temperatures (one-sided Wilcoxon, n = 10)",
                 fontsize=12)
    fig.tight_layout()
    return save(fig, png, pdf)


def temperature_scan(summary: pd.DataFrame, png: str, pdf: str, baselines: pd.DataFrame | None = None) -> plt.Figure:
    """Headline metric against temperature, one line per model and variant, with its 95 % CI band; the
    classical baselines (no temperature) as horizontal grey references."""
    tasks = [t for t in TASK_ORDER if t in set(summary["task"])]
    models = list(dict.fromkeys(summary["model"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 4.2), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for m, model in enumerate(models):
            for variant in [v for v in VARIANT_ORDER if v in set(summary["variant"])]:
                r = summary[(summary["task"] == task) & (summary["model"] == model)
                            & (summary["variant"] == variant)].sort_values("temperature")
                ax.plot(r["temperature"], r["headline"], MODEL_STYLES[m % len(MODEL_STYLES)], marker="o", ms=3,
                        color=VARIANTS[variant].color, label=f"{model} {variant_name(variant)}")
                ax.fill_between(r["temperature"], r["ci_low"], r["ci_high"], color=VARIANTS[variant].color,
                                alpha=0.15, lw=0)
        for k, b in enumerate((baselines[baselines["task"] == task] if baselines is not None else []).itertuples()):
            ax.axhline(b.headline, color="grey", lw=1, ls=(0, (4, 2 + 2 * k)))
            ax.text(1.0, b.headline, f"{b.baseline} {b.headline:.2f}", transform=ax.get_yaxis_transform(),
                    ha="right", va="bottom", fontsize=7, color="#555555")
        ax.set_title(TASKS[task].title, fontsize=11)
        ax.set_xlabel("temperature")
        ax.set_ylabel(TASKS[task].metric)
        ax.set_ylim(0, 1)
        tidy(ax)
    handles, labels = axes[0][0].get_legend_handles_labels()
    columns = len(labels) // len(models)  # one row per model: the legend fills column by column
    order = sorted(range(len(labels)), key=lambda i: (i % columns, i // columns))
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower center", ncols=columns,
               fontsize=8, frameon=False)
    fig.suptitle("Temperature scan (bands: 95 % CI over cases; grey: classical baselines)", fontsize=12)
    fig.tight_layout(rect=(0, 0.045 * -(-len(labels) // columns) + 0.01, 1, 1))
    return save(fig, png, pdf)


def prf_bars(prf: pd.DataFrame, average: str, title: str, png: str, pdf: str) -> plt.Figure:
    """Figure 5c/d: precision, recall and F1 (the `average` rows), one group per model and variant."""
    rows = prf[prf["label"] == average].reset_index(drop=True)
    names = [f"{m}\n{variant_name(v)} (T {temperature_name(t)})"
             for m, v, t in zip(rows["model"], rows["variant"], rows["temperature"])]
    fig, ax = plt.subplots(figsize=(max(6.0, 2.1 * len(rows)), 4.2))
    for k, (metric, color) in enumerate(zip(("precision", "recall", "f1"), ("#4c72b0", "#dd8452", "#55a868"))):
        x = np.arange(len(rows)) + (k - 1) * 0.27
        ax.bar(x, rows[metric], width=0.26, color=color, label=metric.replace("f1", "F1"))
        for xi, value in zip(x, rows[metric]):
            ax.text(xi, value + 0.015, f"{value:.2f}", ha="center", fontsize=8)
    ax.set_xticks(np.arange(len(rows)), names, fontsize=9)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel(f"{average} average")
    ax.set_title(title, fontsize=11)
    ax.legend(frameon=False, fontsize=9, ncols=3, loc="upper left")
    tidy(ax)
    fig.tight_layout()
    return save(fig, png, pdf)


def confusion_matrices(cases: dict[str, pd.DataFrame], png: str, pdf: str) -> plt.Figure:
    """Figure 6: ICD-10 category confusion, one panel per model/variant (truth rows, predicted
    columns; shading: share of the truth row, numbers: cases)."""
    from .parsing import UNPARSED
    truth = sorted(set().union(*(set(c["truth_category"]) for c in cases.values())))
    predicted = sorted(set().union(*(set(c["predicted_category"]) for c in cases.values())) - {UNPARSED})
    labels = sorted(set(truth) | set(predicted), key=lambda s: (s == "Others", s))
    columns = labels + [UNPARSED]
    ncols = 2
    nrows = int(np.ceil(len(cases) / ncols))
    size = 0.3 * len(labels) + 3.2
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size + 2.5, nrows * (size + 1.2)), squeeze=False)
    names = [textwrap.shorten(label.replace("Malignant: ", "Malignant - "), 44, placeholder="...") for label in labels]
    for ax, (title, table) in zip(axes.flat, cases.items()):
        counts = pd.crosstab(table["truth_category"], table["predicted_category"]).reindex(
            index=labels, columns=columns, fill_value=0)
        share = counts.div(counts.sum(axis=1).replace(0, 1), axis=0)
        ax.imshow(share.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(len(labels)):
            for j in range(len(columns)):
                n = counts.iat[i, j]
                if n:
                    ax.text(j, i, str(n), ha="center", va="center", fontsize=8,
                            color="white" if share.iat[i, j] > 0.6 else "black")
        ax.set_xticks(range(len(columns)), names + [UNPARSED], rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), names, fontsize=8)
        ax.set_xlabel("predicted category")
        ax.set_ylabel("true category")
        ax.set_title(title, fontsize=12)
    for ax in list(axes.flat)[len(cases):]:
        ax.axis("off")
    fig.suptitle("ICD-10 categories: truth (rows) vs prediction (columns); diagonal = correct category",
                 fontsize=14)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return save(fig, png, pdf)


GRADE_COLORS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]


def proxy_grades(rows: pd.DataFrame, png: str, pdf: str) -> plt.Figure:
    """Figure 5a/b's counterpart: the share of each proxy grade per model and variant (stacked bars)."""
    rows = rows.sort_values(["model", "variant"], ascending=[True, False]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(9, 0.7 * len(rows) + 1.8))
    left = np.zeros(len(rows))
    for g, color in zip(range(1, 6), GRADE_COLORS):
        share = rows[f"proxy_grade_{g}"].fillna(0).to_numpy()
        ax.barh(rows.index, share, left=left, color=color, height=0.6, label=f"grade {g}")
        for i, (x, w) in enumerate(zip(left, share)):
            if w >= 0.06:
                ax.text(x + w / 2, i, f"{w:.0%}", ha="center", va="center", fontsize=8)
        left += share
    ax.set_yticks(rows.index, [f"{m} {variant_name(v)} (T {temperature_name(t)})"
                               for m, v, t in zip(rows["model"], rows["variant"], rows["temperature"])])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of eval cases (grade 1 + 2: clinically acceptable by the proxy)")
    ax.legend(ncols=5, fontsize=8, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    ax.set_title("Automatic regimen grade (proxy for the clinicians' 1-5 scale)", fontsize=11, pad=24)
    tidy(ax)
    fig.tight_layout()
    return save(fig, png, pdf)


def human_grades(dist: pd.DataFrame, png: str, pdf: str) -> plt.Figure:
    """Figure 5a/b: cases at each grade per grader, one panel per model and variant, with the
    graders' average Grade 1 and Grade 1 + 2 shares."""
    panels = list(dist.groupby(["model", "variant"], sort=True))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    for ax, ((model, variant), group) in zip(axes[0], panels):
        graders = group[group["grader"] != "average"]
        width = 0.8 / len(graders)
        for k, row in enumerate(graders.itertuples()):
            counts = [getattr(row, f"grade_{g}") for g in range(1, 6)]
            x = np.arange(1, 6) + (k - (len(graders) - 1) / 2) * width
            ax.bar(x, counts, width=width * 0.95, label=row.grader, color=["#4c72b0", "#dd8452", "#55a868"][k % 3])
            for xi, c in zip(x, counts):
                ax.text(xi, c, f"{c:.0f}", ha="center", va="bottom", fontsize=8)
        average = group[group["grader"] == "average"].iloc[0]
        ax.set_title(f"{model} {variant_name(variant)}\nGrade 1: {average['grade_1_share']:.0%}, "
                     f"Grade 1+2: {average['grade_1_2_share']:.0%} (average of graders)", fontsize=10)
        ax.set_xticks(range(1, 6), ["1\nacceptable", "2\nminor", "3\nsignificant", "4\nmajor", "5\nnot\nacceptable"],
                      fontsize=8)
        ax.set_ylabel("cases")
        ax.legend(frameon=False, fontsize=8)
        tidy(ax)
    fig.suptitle("Clinicians' grades of the generated regimens (after adjudication)", fontsize=12)
    fig.tight_layout()
    return save(fig, png, pdf)


def paired_differences(table: pd.DataFrame, png: str, pdf: str) -> plt.Figure:
    """Per-case paired comparisons: the mean difference a - b with its 95 % paired bootstrap CI (thick) and its
    family's simultaneous CI (thin), one row per comparison (primary ones in bold), one panel per task; the
    adjusted p beside each."""
    tasks = [t for t in TASK_ORDER if t in set(table["task"])]
    height = max(len(table[table["task"] == t]) for t in tasks) if tasks else 1
    fig, axes = plt.subplots(1, max(1, len(tasks)), figsize=(5.4 * max(1, len(tasks)), 0.55 * height + 2.2),
                             squeeze=False, sharey=False)
    for ax, task in zip(axes[0], tasks):
        rows = table[table["task"] == task].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        ax.errorbar(rows["difference"], y, xerr=[rows["difference"] - rows["ci_low_adjusted"],
                                                 rows["ci_high_adjusted"] - rows["difference"]],
                    fmt="none", ecolor="#4c72b0", elinewidth=0.8, capsize=2)
        ax.errorbar(rows["difference"], y, xerr=[rows["difference"] - rows["ci_low"],
                                                 rows["ci_high"] - rows["difference"]],
                    fmt="o", color="#4c72b0", ecolor="#4c72b0", elinewidth=2.2, capsize=0)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        for yi, r in zip(y, rows.itertuples()):
            ax.annotate(f"{r.difference:+.3f}, adjusted p {r.p_adjusted:.2g}", (r.difference, yi), xytext=(0, 7),
                        textcoords="offset points", fontsize=7, ha="center", va="bottom", color="#444444")
        ax.set_ylim(-0.6, len(rows) - 0.3)
        low, high = min(0.0, rows["ci_low_adjusted"].min()), max(0.0, rows["ci_high_adjusted"].max())
        ax.set_xlim(low - 0.15 * ((high - low) or 1), high + 0.15 * ((high - low) or 1))
        ax.set_yticks(y, [f"{predictor_name(r.a)}\n  vs {predictor_name(r.b)}" for r in rows.itertuples()], fontsize=7)
        for label, r in zip(ax.get_yticklabels(), rows.itertuples()):
            label.set_fontweight("bold" if r.family == "primary" else "normal")
        ax.set_xlabel("mean per-case difference (a - b)\n95 % CI (thick), family's simultaneous CI (thin)")
        ax.set_title(f"{TASKS[task].title}\n{TASKS[task].metric}", fontsize=10)
        tidy(ax)
    fig.suptitle("Per-case paired comparisons at the report temperature", fontsize=12)
    fig.tight_layout()
    return save(fig, png, pdf)


def by_site(table: pd.DataFrame, png: str, pdf: str, min_cases: int = 10) -> plt.Figure:
    """Small multiples: the headline metric per disease site (sites with at least `min_cases` eval cases),
    one panel per task, one bar per predictor (fine-tuned models and the best baseline); n per panel."""
    shown_predictors = table["predictor"].map(lambda p: parse_predictor_label(p)[1] in (TRAINED, None))
    sites = table[(table["grouping"] == "site") & shown_predictors]
    tasks = [t for t in TASK_ORDER if t in set(sites["task"])]
    shown = sorted(set(sites.loc[sites["n"] >= min_cases, "group"]))
    fig, axes = plt.subplots(1, max(1, len(tasks)), figsize=(5.2 * max(1, len(tasks)), 0.42 * len(shown) + 2.2),
                             squeeze=False, sharey=True)
    for ax, task in zip(axes[0], tasks):
        rows = sites[(sites["task"] == task) & sites["group"].isin(shown)]
        predictors = list(dict.fromkeys(rows["predictor"]))
        width = 0.8 / max(1, len(predictors))
        for k, predictor in enumerate(predictors):
            values = rows[rows["predictor"] == predictor].set_index("group")["headline"].reindex(shown)
            y = np.arange(len(shown)) + (k - (len(predictors) - 1) / 2) * width
            ax.barh(y, values, height=width * 0.95, color=["#4c72b0", "#55a868", "#999999", "#dd8452"][k % 4],
                    label="the task's best baseline" if predictor.endswith(" baseline") else
                    predictor_name(predictor))
        counts = rows.drop_duplicates("group").set_index("group")["n"].reindex(shown)
        for i, n in enumerate(counts):
            ax.text(1.01, i, "n 0" if n != n else f"n {int(n)}", transform=ax.get_yaxis_transform(), va="center",
                    fontsize=7, color="#555555")
        ax.set_yticks(range(len(shown)), [s.replace("Malignant: ", "") for s in shown], fontsize=7)
        ax.invert_yaxis() if ax is axes[0][0] else None
        ax.set_xlim(0, 1)
        ax.set_xlabel(TASKS[task].metric)
        ax.set_title(TASKS[task].title, fontsize=10)
        tidy(ax)
    axes[0][0].legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.04), ncols=3)
    fig.suptitle(f"Per disease site (ICD-10 category; sites with at least {min_cases} eval cases)", fontsize=12)
    fig.tight_layout()
    return save(fig, png, pdf)


def learning_curve(table: pd.DataFrame, png: str, pdf: str) -> plt.Figure:
    """One panel per model and task: against the labelled pairs each learned from (log axis), the fine-tuned
    adapters, the prompting variants and the best baseline, each with its 95 % CI band, every method at every
    size; the model zero-shot and the best baseline fitted on every train pair as horizontal reference lines."""
    from .paired import ALL_PAIRS
    models = list(dict.fromkeys(table["model"]))
    tasks = [t for t in TASK_ORDER if t in set(table["task"])]
    fig, axes = plt.subplots(len(models), len(tasks), figsize=(max(7.0, 4.6 * len(tasks)), 4.6 * len(models) + 0.4),
                             squeeze=False)
    for row, model in enumerate(models):
        for ax, task in zip(axes[row], tasks):
            part = table[(table["model"] == model) & (table["task"] == task)]
            reference = part["train_pairs"].isna() | part["predictor"].str.endswith(f"({ALL_PAIRS})")
            for predictor, curve in part[~reference].groupby("predictor", sort=False):
                curve = curve.sort_values("train_pairs")
                x = curve["train_pairs"].astype(float)
                color = VARIANTS[predictor].color if predictor in VARIANTS else "#7f7f7f"
                ax.plot(x, curve["headline"], "-o" if predictor == TRAINED else "--s", ms=4, color=color,
                        lw=2 if predictor == TRAINED else 1.2, label=variant_name(predictor))
                ax.fill_between(x, curve["ci_low"], curve["ci_high"], color=color, alpha=0.12, lw=0)
            for r in part[reference].itertuples():
                name = variant_name(r.predictor) if pd.isna(r.train_pairs) else r.predictor.replace(
                    ALL_PAIRS, f"all {int(r.train_pairs):,} train pairs")
                zero_shot = r.predictor in VARIANTS
                ax.axhline(r.headline, color=VARIANTS[r.predictor].color if zero_shot else "#4d4d4d", lw=1,
                           ls=":" if zero_shot else "-.", label=name)
            sizes = sorted(set(part.loc[part["predictor"] == TRAINED, "train_pairs"].astype(float)))
            ax.set_xscale("log")
            ax.set_xticks(sizes, [f"{v:.0f}" for v in sizes])  # the points' own sizes, not powers of ten
            ax.minorticks_off()
            ax.set_title(f"{model}: {TASKS[task].title}", fontsize=10)
            ax.set_xlabel("labelled training pairs (the same for every method)")
            ax.set_ylabel(TASKS[task].metric)
            ax.set_ylim(0, 1)
            ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)  # below
            tidy(ax)
    temperature = table.loc[table["predictor"] == TRAINED, "temperature"].iloc[0]
    fig.suptitle(f"Learning curve at T = {temperature_name(temperature)}: every method learns from the same "
                 "pairs at each size\nbands: 95 % CI; dotted: zero-shot; dash-dot: the best baseline on all train "
                 "pairs", fontsize=10)
    fig.tight_layout()
    return save(fig, png, pdf)


def evaluation_figures(tables: dict[str, pd.DataFrame], out: dict[str, str], report_temperature) -> None:
    """Every figure of rule evaluation_figures from the tables of rule evaluation_tables (by their output
    names), written to `out` (the rule's output names)."""
    from .choice import best_temperatures
    highest_and_median(tables["table1"], out["figure3_png"], out["figure3_pdf"])
    temperature_scan(tables["by_temperature"], out["scan_png"], out["scan_pdf"], tables["baselines"])
    for task in CLASSIFYING:
        average = TASKS[task].average
        over = " (main categories)" if TASKS[task].coded else ""
        prf_bars(tables[f"{task}_prf"], average, f"{TASKS[task].title}: {average} P / R / F1{over}",
                 out[f"{task}_png"], out[f"{task}_pdf"])
    panels = {f"{m} {variant_name(v)} (T {temperature_name(t)})": g.loc[g.index.repeat(g["n"])]
              for (m, v, t), g in tables["icd10_confusion"].groupby(["model", "variant", "temperature"], sort=False)}
    confusion_matrices(panels, out["confusion_png"], out["confusion_pdf"])
    paired_differences(tables["paired_tests"], out["paired_png"], out["paired_pdf"])
    by_site(tables["by_group"], out["by_site_png"], out["by_site_pdf"])
    scan = tables["by_temperature"]
    shown = best_temperatures(scan[scan["task"].isin(FREE_TEXT)], report_temperature)
    proxy_grades(tables["regimen_proxy"].merge(shown[["model", "variant", "temperature"]]), out["proxy_png"],
                 out["proxy_pdf"])
