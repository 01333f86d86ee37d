provider "aws" {
  region = var.aws_region
}

terraform {
  backend "s3" {}
  
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 4.0"
    }
  }
}

# DynamoDB-Tabellen
module "visitor_counter_table" {
  source = "../../modules/dynamodb/counter"
  
  table_name  = var.counter_table_name
  environment = var.environment
}

module "feedback_table" {
  source = "../../modules/dynamodb/feedback"
  
  table_name  = var.feedback_table_name
  environment = var.environment
}
