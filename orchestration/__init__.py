"""Dagster definitions for loanops: the whole lifecycle as one asset graph (see definitions.py)."""
