"""A prediction job's start-up: what a vanilla or prompted prediction job imports and loads before it generates.

    .venv/bin/python benchmarks/startup.py [rounds]

Times, in fresh processes, the job's own start (import radonc_llm.stages and radonc_llm.predict, load the
tiny base and its tokenizer) against the same with the imports it no longer pays for added (peft, which only
the fine-tuned variant's jobs need to apply an adapter, and matplotlib, which only the jobs that draw need),
alternating for `rounds` rounds (default 5); prints both medians and their difference. Needs `make demo`.
"""
import statistics
import subprocess
import sys
import time

from workflow_config import root, workflow_config

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
spec = workflow_config("tiny-llama")["models"]["tiny-llama"]
job = ("import radonc_llm.stages\nfrom radonc_llm.predict import load_for_prediction\n"
       f"load_for_prediction({spec['path']!r}, {spec['prompt_format']!r})\n")
before = "import peft\nimport matplotlib.pyplot\n" + job


def timed(code):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, capture_output=True)
    return time.perf_counter() - start


timed(job)  # warm the file cache
runs = [(timed(before), timed(job)) for _ in range(rounds)]
old, new = statistics.median(b for b, _ in runs), statistics.median(a for _, a in runs)
print(f"a vanilla prediction job's start, {rounds} rounds: with peft and matplotlib imported {old:.2f} s, "
      f"now {new:.2f} s: {old - new:.2f} s less per job ({old / new:.2f}x)")
