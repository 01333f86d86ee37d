terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

# Credentials come from the standard AWS chain (AWS_PROFILE, environment, SSO, instance
# role). The local sandbox never edits this block: the runbook applies a copy of this
# folder with a generated runbook_sandbox_override.tf that points every endpoint at moto.
provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}
