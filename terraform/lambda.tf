resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default): the logs hold request details, kept no longer than they are useful; raise the variable if your policy requires a year.
  # Created before the function so Lambda does not create it without retention.
  name              = local.log_group_names[0]
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${local.name}-role"
  description        = "Visitor counter Lambda: one UpdateItem on its table, logs to its log group."
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

# Least privilege: the handler only ever calls UpdateItem (ADD), on this table only.
data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "IncrementCounter"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.counter.arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  # Active tracing (tracing_config below): Lambda sends the invocation's segments to X-Ray.
  statement {
    sid       = "SendTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray writes have no resource-level permissions
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${local.name}-policy"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

resource "aws_lambda_function" "counter" {
  #checkov:skip=CKV_AWS_116:API Gateway invokes the function synchronously; a DLQ only receives failed asynchronous invocations, so it would stay empty. Failures reach the caller as 5xx and the lambda_errors alarm.
  #checkov:skip=CKV_AWS_117:The function calls only the DynamoDB and CloudWatch public endpoints and reaches nothing private; a VPC would add NAT or VPC endpoints (cost, cold starts) for no isolation gain.
  #checkov:skip=CKV_AWS_115:Concurrency is capped upstream by the API stage throttling (api_throttle_rate_limit/burst_limit); a reservation fails to apply on new accounts, whose whole quota of 10 must stay unreserved.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signed zip in S3; the zip is built locally and reproducibly from reviewed source (build_lambda_zip) and pinned by source_code_hash.
  #checkov:skip=CKV_AWS_173:The environment holds only names (table, key, attribute, metric namespace, CORS origin), no secrets; Lambda encrypts it at rest with its service key.
  function_name    = local.function_name
  description      = "Visitor counter: atomic UpdateItem ADD on ${local.table_name}, count published as EMF."
  role             = aws_iam_role.lambda.arn
  runtime          = "python3.12"
  handler          = "visitor_counter.handler"
  filename         = local.lambda_zip_path
  source_code_hash = fileexists(local.lambda_zip_path) ? filebase64sha256(local.lambda_zip_path) : null
  timeout          = var.lambda_timeout_seconds
  memory_size      = var.lambda_memory_mb

  tracing_config {
    mode = "Active"
  }

  environment {
    variables = {
      TABLE_NAME       = aws_dynamodb_table.counter.name
      KEY_NAME         = local.key_name
      KEY_VALUE        = local.key_value
      KEY_TYPE         = "S"
      COUNT_ATTRIBUTE  = local.count_attribute
      METRIC_NAMESPACE = var.metric_namespace
      METRIC_NAME      = var.metric_name
      ALLOW_ORIGIN     = local.cors_origins[0]
    }
  }

  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy.lambda]

  lifecycle {
    precondition {
      condition     = fileexists(local.lambda_zip_path)
      error_message = "The Lambda zip ${local.lambda_zip_path} does not exist. Build it (deterministic, no archive provider needed): python -c 'from runbook_lib.terraform import build_lambda_zip; build_lambda_zip()'"
    }
  }
}
