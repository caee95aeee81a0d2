"""The workflow through profiles/slurm on a real single-node SLURM started by tests/slurm/start_cluster.sh.

Needs root and apt (Debian/Ubuntu) or an installed slurmctld/munge: `make test-slurm` (run by CI).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_workflow import REPO, copy_workflow, digest

pytestmark = pytest.mark.slurm
TARGET = "results/small/predictions/tiny-llama/finetuned/modality/T0.2.parquet"
CONFIGS = ["--configfile", "tests/config/small.yaml", "tests/config/slurm.yaml"]


def skip_reason():
    if os.geteuid() != 0:
        return "needs root to install and start a single-node SLURM (munge, slurmctld, slurmd)"
    if not (shutil.which("slurmctld") or shutil.which("apt-get")):
        return "needs slurmctld installed or apt-get to install it (Debian/Ubuntu)"
    return None


@pytest.fixture(scope="module")
def cluster():
    if reason := skip_reason():
        if os.environ.get("RADONC_REQUIRE_SLURM"):  # set by .ci/run: CI runs as root, so a skip there is a fault
            pytest.fail(f"the live SLURM test cannot run: {reason}")
        pytest.skip(reason)
    subprocess.run(["bash", str(REPO / "tests/slurm/start_cluster.sh")], check=True)
    yield
    subprocess.run(["bash", str(REPO / "tests/slurm/stop_cluster.sh")], check=True)


def submitted_jobs(run_id: str) -> dict[str, int]:
    """rule (from the plugin's --comment) -> the GPUs its SLURM job requested, for the jobs of one Snakemake
    run (the plugin names every job of a run by its run ID)."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True, check=True).stdout
    jobs = {}
    for line in out.splitlines():
        if f"JobName={run_id} " not in line:
            continue
        rule = re.search(r"Comment=rule_(\w+?)(?:_wildcards_\S*)?(?=\s|$)", line)
        if rule:
            gpus = re.search(r"\b(?:TresPerJob|TresPerNode|ReqTRES)=\S*?gpu[:=](\d+)", line)
            jobs[rule.group(1)] = int(gpus.group(1)) if gpus else 0
    return jobs


def test_workflow_through_the_slurm_profile_matches_a_local_run(cluster, tmp_path):
    slurm, local = copy_workflow(tmp_path / "slurm"), copy_workflow(tmp_path / "local")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = subprocess.run([sys.executable, "-m", "snakemake", TARGET, "--profile", "profiles/slurm",
                          "--workflow-profile", str(REPO / "tests/slurm/profile"), *CONFIGS],
                         cwd=slurm, capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    jobs = submitted_jobs(re.search(r"SLURM run ID: (\S+)", out.stderr + out.stdout).group(1))
    assert jobs.get("finetune") == 2 and jobs.get("predict") == 1, jobs  # GPU requests, as slurmctld has them
    cpu_rules = {"synthetic_cohort", "curate", "modality_labels", "split_pairs", "tiny_tokenizer", "tiny_base"}
    assert cpu_rules <= set(jobs) and not any(jobs[r] for r in cpu_rules), jobs  # CPU rules: none
    out = subprocess.run([sys.executable, "-m", "snakemake", TARGET, "--cores", "2", *CONFIGS],
                         cwd=local, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    compared = [p.relative_to(local) for p in sorted((local / "results/small").glob("[dp][ar]*/**/*.parquet"))]
    assert Path(TARGET) in compared and len(compared) > 5
    def hashes(root):
        return list(digest([root / p for p in compared]).values())
    assert hashes(slurm) == hashes(local)  # same data, pairs and predictions, byte for byte
