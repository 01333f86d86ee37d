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
