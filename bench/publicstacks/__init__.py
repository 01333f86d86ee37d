"""`python -m bench.public_stacks [NAME ...] [--round 1|2] [--as-author | --both] [--keep]`:
issue 16's "Done when", measured on the twenty public stacks in bench/public_stacks/.

Every stack there is a public visitor-counter stack nobody on the project wrote, trimmed to
its DynamoDB tables and items, otherwise verbatim (SOURCES.md says where each comes from;
its expect.json what should happen and why). For each one, in a temporary copy and against
a moto server of its own (table names collide between stacks):

GIVEN the stack applied through the runbook's own shadow workspace (`tf.workspace` +
`lostanswer.apply_fresh_stack`, as tests/e2e/test_corpus_terraform.py does) and 5 visits on
every counter item (the Lambda's atomic ADD, in the stack's region), in the README's sandbox
shell (`eval "$(runbook sandbox env)"`: loopback endpoint, dummy keys, AWS_REGION=us-east-1,
RUNBOOK_* naming ANOTHER table) plus what the author's CI exports (expect.json env);
WHEN `runbook run 05_migrate -p terraform_dir DIR [-p var_files F] -p dry_run False
-p confirm TABLE` runs;
THEN, if it exits 0, 2 more `terraform apply`s (plan, then apply if it has changes) run in
the GIVEN's shadow, and every counter item's count must still be what the visits left.

Two modes (SOURCES.md, "Two modes"):

- verbatim (the default): the copy as committed. A stack whose state lives in real AWS or
  Terraform Cloud, or that pins a provider or Terraform this machine cannot satisfy, must be
  refused safely. The GIVEN keeps its state where the runbook would: in the user's folder
  for a local backend, in the harness's own shadow for a backend in real AWS; a stack that
  cannot be applied here at all is run without a GIVEN.
- as the author runs it (`--as-author`): the copy (never the committed folder) adapted the
  minimum a real author's environment differs from this machine (publicstacks.adapt): an
  unsatisfiable hashicorp/aws pin becomes the mirror's version, an unsatisfiable
  required_version is dropped, a backend "s3" is re-homed into the sandbox's S3 (bucket and
  lock table created there, endpoints added), Terraform Cloud becomes a local state. Every
  stack is then expected to migrate; each row lists its adaptations.

One row per stack; a summary line per mode; the rows in bench/public_stacks/last_run.json,
keyed by mode (merged over the previous rows when only some stacks run). The exit code is 1
when any outcome is unsafe: a count lost or changed, the other table written, or the
stack's files changed by a run that refused.

Modules by role: model (expect.json, rows, constants), live (counts and visits in moto),
adapt (the as-author edits of a copy), story (one stack, GIVEN/WHEN/THEN), cli (modes,
summaries, last_run.json).
"""
