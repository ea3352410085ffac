"""Benchmarks behind `genstudio bench`: figures to compare with docs/performance.md, not timed tests."""
