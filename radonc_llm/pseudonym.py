"""Keyed pseudonyms for patient identifiers: nothing under results/ carries a raw ID."""
from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd



def resolve_key(settings: dict) -> bytes:
    """The key from the environment variable named in `pseudonym.key_env`, else `pseudonym.key`."""
    env_name = settings.get("key_env") or ""
    key = os.environ.get(env_name, "") if env_name else ""
    key = key or settings.get("key") or ""
    if not key:
        raise ValueError(f"no pseudonymisation key: set the environment variable {env_name or '(key_env)'} "
                         "or pseudonym.key in the config")
    return key.encode()


def pseudonymise(patient_ids: pd.Series, key: bytes) -> pd.Series:
    """Map each patient ID to 'P' + 16 hex digits of HMAC-SHA256(key, id); stable across runs and batches."""
    unique = patient_ids.unique()
    mapping = {pid: "P" + hmac.new(key, str(pid).encode(), hashlib.sha256).hexdigest()[:16] for pid in unique}
    if len(set(mapping.values())) != len(mapping):
        raise ValueError("pseudonym collision: use a different pseudonymisation key")
    return patient_ids.map(mapping)
