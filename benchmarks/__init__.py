"""`make bench`: figures for the mint path, each measured against the bare limit of the same part in the same run.

Entry point: `python -m benchmarks.run [--quick] [--output bench-results.json]`.
"""
