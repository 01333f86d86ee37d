"""The one reset detector 02_status, 06_history and 07_recover share: `resets` finds a reset
in a count series (pure), `resetread` reads the series and the audit log for it, `resettext`
words it. Not a step of its own (no `run`); a package of its own so that 02_status, which a
scheduler runs every morning, gets the detector without 06's pandas frames."""
