"""How long a no-op dry run takes on a finished tree (target: 2 s or less).

    .venv/bin/python benchmarks/noop_dryrun.py [rounds]

Run it after `make demo`: it times `snakemake --dry-run` (nothing to do) a few times in the
repository and prints the median, and fails loudly if the tree is not finished. Where SLURM's client tools are
installed but no controller answers (as after `make test-slurm`), every Snakemake start waits 10 s on them
(docs/slurm.md): put an `scontrol` that exits 1 first on the PATH to time the workflow itself.
"""
import statistics
import subprocess
import sys
import time
from pathlib import Path

root = Path(__file__).parents[1]
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
times = []
for _ in range(rounds):
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", "--cores", "1"], cwd=root,
                         capture_output=True, text=True)
    times.append(time.perf_counter() - start)
    if out.returncode != 0 or "Nothing to be done" not in out.stdout + out.stderr:
        sys.exit("the tree is not finished (the dry run plans jobs): run `make demo` first\n" + out.stdout[-2000:])
print(f"no-op dry run on the finished default tree: median {statistics.median(times):.2f} s "
      f"(min {min(times):.2f}, max {max(times):.2f}, {rounds} runs; target <= 2 s)")
