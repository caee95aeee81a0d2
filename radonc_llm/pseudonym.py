"""Keyed pseudonyms for patient identifiers: nothing under results/ carries a raw ID."""
from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pandas as pd

from .errors import UserError



MIN_KEY_LENGTH = 32
REPOSITORY = Path(__file__).resolve().parents[1]  # the workflow's folder: no key file may lie inside


def resolve_key(settings: dict, synthetic: bool = True, repository: str | Path = REPOSITORY) -> bytes:
    """The key from the environment variable named in `pseudonym.key_env`, else from the file
    `pseudonym.key_file`, else `pseudonym.key`. The config's key is public (it is in the repository): only the
    synthetic default may use it. Real exports need a key of at least 32 characters from the environment or
    from a file outside the repository. Messages never contain the key."""
    env_name = settings.get("key_env") or ""
    how = ("export " + env_name + "=$(python -c 'import secrets; print(secrets.token_hex(32))') (keep it safe: the "
           "same key gives the same case_ids in later batches), or set pseudonym.key_file to a file outside the "
           "repository")
    key, source = (os.environ.get(env_name, "") if env_name else ""), f"the environment variable {env_name}"
    if not key and settings.get("key_file"):
        path = Path(settings["key_file"]).expanduser().resolve()
        if path.is_relative_to(Path(repository).resolve()):
            raise UserError(f"pseudonym.key_file {settings['key_file']} lies inside the repository, where it can be "
                            "committed or shared: move it outside")
        if not path.is_file():
            raise UserError(f"pseudonym.key_file {settings['key_file']}: file not found")
        key, source = path.read_text(encoding="utf-8").strip(), f"pseudonym.key_file {settings['key_file']}"
    if not key and synthetic:
        key, source = settings.get("key") or "", "pseudonym.key"
    if not key:
        raise UserError(f"no pseudonymisation key for these exports (the config's key is public and only for the "
                        f"synthetic demo): {how}")
    if not synthetic and len(key) < MIN_KEY_LENGTH:
        raise UserError(f"the pseudonymisation key from {source} has {len(key)} characters; real exports need at "
                        f"least {MIN_KEY_LENGTH} (patient IDs are short: a short key can be guessed): {how}")
    return key.encode()


def pseudonymise(patient_ids: pd.Series, key: bytes) -> pd.Series:
    """Map each patient ID to 'P' + 16 hex digits of HMAC-SHA256(key, id); stable across runs and batches."""
    unique = patient_ids.unique()
    mapping = {pid: "P" + hmac.new(key, str(pid).encode(), hashlib.sha256).hexdigest()[:16] for pid in unique}
    if len(set(mapping.values())) != len(mapping):
        raise ValueError("pseudonym collision: use a different pseudonymisation key")
    return patient_ids.map(mapping)
