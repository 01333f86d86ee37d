"""Terraform: the binary and its provider mirror, shadow workspaces, state and plan reading,
stack configuration (python-hcl2) and HCL text edits."""
