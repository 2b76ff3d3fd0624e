"""data_quality: Great Expectations suites for the raw layer and the marts, the publishing gate.

- suites.py   the expectations, their severity (blocking | warning) and Chinese explanations (pure)
- staging.py  the dbt staging views the raw checks read (made before the quarter's first dbt build)
- frames.py   the DuckDB queries over those views that build the frames GX validates (derived columns)
- validate.py validate_raw / validate_marts / store_results / blocking_failures, CheckResult
- report.py   clerk_report / write_clerk_report_xlsx: problems per submitting unit
- benchmark.py province-scale timing: `uv run python -m data_quality.benchmark`

Importing this package does not import GX (slow); import the modules you need.
"""
