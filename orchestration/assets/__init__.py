"""The asset graph, one module per concern: ingest, dbt, ML, deployment, prediction log."""
