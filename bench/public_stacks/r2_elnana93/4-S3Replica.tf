# 1. Configure the AWS provider for the replica region
provider "aws" {
  alias  = "replica"
  region = "us-west-1"
} 

