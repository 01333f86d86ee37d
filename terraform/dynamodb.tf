resource "aws_dynamodb_table" "counter" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS managed key aws/dynamodb (server_side_encryption below). The item is a public visit count; a customer managed key would add a monthly key charge and KMS grants to every backup and restore the runbook makes.
  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = local.key_name

  attribute {
    name = local.key_name
    type = "S"
  }

  # Restore to any second of the last 35 days if the count is overwritten.
  point_in_time_recovery {
    enabled = true
  }

  # AWS-owned KMS key made explicit (AWS managed key aws/dynamodb).
  server_side_encryption {
    enabled = true
  }

  deletion_protection_enabled = var.deletion_protection
}
