terraform {
  backend "remote" {
    organization = "chxnedu-crc"

    workspaces {
      name = "Prod-Env-Backend"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_dynamodb_table" "VisitorCount" {
  name = "VisitorCounterDB"
  hash_key = "Version"
  attribute {
    name = "Version"
    type = "N"
  }
  billing_mode = "PROVISIONED"
  read_capacity = 1
  write_capacity = 1
}

resource "aws_dynamodb_table_item" "Count" {
  table_name = aws_dynamodb_table.VisitorCount.name
  hash_key = aws_dynamodb_table.VisitorCount.hash_key
  item = <<-EOS
  {
  "Version": { "N": "1" },
  "TotalCount": { "N": "0" }
}
EOS
  lifecycle {
    ignore_changes = [
      item,
    ]
  }
}
