"""`runbook fleet run NOTEBOOK FLEET.toml`: one notebook over every counter of a fleet file,
each run its own report, one index over them all.

fleetfile (the TOML, checked whole before anything runs) -> expand (entries to runs: a
stack-only entry becomes one run per counter item the stack manages) -> runs (`runbook
run` per counter in parallel child processes; Ctrl-C stops them all) -> rows (each run's
report read back) -> index (index.html + result.json; smallmultiples for 06_history).
`command` ties them together for the CLI and `runbook demo`.
"""
