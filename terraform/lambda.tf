resource "aws_cloudwatch_log_group" "lambda" {
  # Created before the function so Lambda does not create it without retention.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
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
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${local.name}-policy"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

resource "aws_lambda_function" "counter" {
  function_name    = local.function_name
  description      = "Visitor counter: atomic UpdateItem ADD on ${local.table_name}, count published as EMF."
  role             = aws_iam_role.lambda.arn
  runtime          = "python3.12"
  handler          = "visitor_counter.handler"
  filename         = local.lambda_zip_path
  source_code_hash = fileexists(local.lambda_zip_path) ? filebase64sha256(local.lambda_zip_path) : null
  timeout          = var.lambda_timeout_seconds
  memory_size      = var.lambda_memory_mb

  environment {
    variables = {
      TABLE_NAME       = aws_dynamodb_table.counter.name
      KEY_NAME         = local.key_name
      KEY_VALUE        = local.key_value
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
