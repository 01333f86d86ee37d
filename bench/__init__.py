"""`make bench`: the runbook's figures, measured side by side on this machine.

Every figure is a ratio or a count taken in one run against a baseline measured in the same
rounds (a plain script, a bare boto3 loop, dynamodump), the median of at least five runs
with min and max, so that it holds on a noisy 2-core machine. Everything talks to moto
servers on 127.0.0.1 only, with bounded loops. `python -m bench.run` writes
`bench/results.json`; `--quick` uses tiny sizes (the smoke test in `make test`).
"""
