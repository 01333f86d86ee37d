terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.aws_region
}

provider "aws" {
  alias = "us_east_1"
  region = "us-east-1"
}

module "backend" {
  source = "../../modules/backend"

  environment          = var.environment
  project_name         = var.project_name
  aws_region          = var.aws_region
  aws_account_id      = var.aws_account_id
  domain_name = var.domain_name
  github_repo_name = var.github_repo_name
  dynamodb_table_name = "${var.environment}-${var.project_name}-visitor-counter"
  billing_mode        = "PAY_PER_REQUEST" 

  lambda_runtime           = "python3.11"
  lambda_timeout           = 3
  lambda_memory_size       = 128
  lambda_log_retention_days = 7

  allowed_origins              = ["https://${var.domain_name}"]
  api_gateway_log_retention_days = 7
  
  common_tags = {
    Environment = var.environment
    Project     = var.project_name
    ManagedBy   = "Terraform"
  }
}
