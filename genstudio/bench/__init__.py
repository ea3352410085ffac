"""Benchmarks behind `genstudio bench`: figures to compare with docs/performance.md, not timed tests.

`figures.py` runs the groups and prints them; `throughput.py` and `reference_gan.py` time training,
`report_speed.py` the diagnostics report, `stop_latency.py` how long a Stop takes, and `ui.py` what needs the real window.
"""
