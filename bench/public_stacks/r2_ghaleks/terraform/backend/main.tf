# terraform/backend/main.tf
provider "aws" {
  region = "eu-north-1"
}

resource "aws_dynamodb_table" "terraform_locks" {
  name         = "aleksanderbauer-resume-terraform-locks"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"
  
  attribute {
    name = "LockID"
    type = "S"
  }
}

output "dynamodb_table_name" {
  value = aws_dynamodb_table.terraform_locks.name
}
