"""counter-runbook: operations runbook for a serverless visitor counter.

Modules are kept import-light on purpose: notebooks import only what they use, so
pandas and matplotlib load only where a notebook plots or tabulates.
"""

__version__ = "0.1.0"
