terraform {
  required_version = ">= 1.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.aws_region
  
  default_tags {
    tags = {
      Environment = var.environment
      Project     = "cloud-resume"
      ManagedBy   = "terraform"
    }
  }
}

# DynamoDB table for visitor counter
module "dynamodb" {
  source      = "../../modules/dynamodb"
  environment = var.environment
}
