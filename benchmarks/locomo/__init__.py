"""locomo benchmark; see run.py and docs/benchmarks.md."""
