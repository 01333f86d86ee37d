# The visitor counter: API Gateway HTTP API -> Lambda -> one DynamoDB item
# {stat: "Quantity", viewCount: N}.
#
# Terraform manages infrastructure only. There is deliberately NO aws_dynamodb_table_item
# here: that resource rewrites the item on every apply and resets the count. The Lambda
# creates the item on the first visit (UpdateItem ADD), and the runbook's 01_init
# creates it only if it is missing.

locals {
  # "resume.example.com" -> "resume-example-com-visitor-counter" (Lambda and IAM names
  # cannot contain dots).
  name            = "${replace(var.bucket_name, ".", "-")}-visitor-counter"
  table_name      = "${var.bucket_name}-VisitorCount"
  function_name   = local.name
  lambda_zip_path = coalesce(var.lambda_zip_path, "${path.module}/lambda/build/visitor_counter.zip")
  cors_origins    = coalesce(var.cors_allow_origins, ["https://${var.bucket_name}"])

  # The counter item's shape, shared by the Lambda's environment and the outputs the
  # runbook reads, so the two can never disagree.
  key_name        = "stat"
  key_value       = "Quantity"
  count_attribute = "viewCount"
}

# The stack's log groups (Lambda and API access logs, which hold visitor IP addresses) are
# encrypted with this customer managed key, rotated yearly. CloudWatch Logs may use it only
# for these two log groups (encryption context condition); the account keeps administration.
resource "aws_kms_key" "logs" {
  description             = "${local.name}: CloudWatch Logs encryption for the visitor counter's log groups."
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = local.account_root_arn }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncrypts"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = {
            "kms:EncryptionContext:aws:logs:arn" = [for group in local.log_group_names : "arn:${data.aws_partition.current.partition}:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:${group}"]
          }
        }
      },
    ]
  })
}

locals {
  log_group_names = ["/aws/lambda/${local.function_name}", "/aws/apigateway/${local.name}-api"]
}
