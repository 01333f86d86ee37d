"""The runbook's steps, one module each: init, status, set, backup/restore, migrate, history,
recover, guard. Each reads as a list of steps over aws/, formats/ and tf/."""
