"""The dagster-dms demo project (run it with `make demo` from the repository root)."""
