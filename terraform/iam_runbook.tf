# The runbook operator's policy: what the counter-runbook notebooks and CLI need, scoped
# to this stack. Attach it to the role or group your operators use (it is not attached
# here, so applying the stack grants nothing to anyone).
#
# Restores never overwrite the live table: native and PITR restores create a new table
# named "<table>-restored-<suffix>", so write access to those names is granted as well.

data "aws_partition" "current" {}

locals {
  api_arn             = "arn:${data.aws_partition.current.partition}:apigateway:${var.region}::/apis/${aws_apigatewayv2_api.counter.id}"
  restored_tables_arn = "${aws_dynamodb_table.counter.arn}-restored-*"
}

data "aws_iam_policy_document" "runbook_operator" {
  statement {
    sid = "CounterItemAndTable"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:CreateBackup",
      "dynamodb:RestoreTableToPointInTime",
    ]
    resources = [aws_dynamodb_table.counter.arn]
  }

  statement {
    sid       = "NativeBackups"
    actions   = ["dynamodb:DescribeBackup", "dynamodb:RestoreTableFromBackup"]
    resources = ["${aws_dynamodb_table.counter.arn}/backup/*"]
  }

  statement {
    sid       = "ListBackups"
    actions   = ["dynamodb:ListBackups"]
    resources = ["*"] # ListBackups has no resource-level permissions
  }

  statement {
    sid = "RestoredTables"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:Query",
      "dynamodb:Scan",
    ]
    resources = [local.restored_tables_arn]
  }

  statement {
    sid       = "MetricsAndAlarms"
    actions   = ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "cloudwatch:DescribeAlarms"]
    resources = ["*"] # these CloudWatch read actions have no resource-level permissions
  }

  statement {
    sid       = "InspectFunction"
    actions   = ["lambda:GetFunction", "lambda:GetFunctionConfiguration"]
    resources = [aws_lambda_function.counter.arn]
  }

  statement {
    sid       = "ReadLogs"
    actions   = ["logs:FilterLogEvents", "logs:GetLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*", "${aws_cloudwatch_log_group.api_access.arn}:*"]
  }

  statement {
    sid       = "InspectApi"
    actions   = ["apigateway:GET"]
    resources = [local.api_arn, "${local.api_arn}/*"]
  }
}

resource "aws_iam_policy" "runbook_operator" {
  name        = "${local.name}-runbook-operator"
  description = "counter-runbook operator: read and repair the visitor count of ${local.table_name}."
  policy      = data.aws_iam_policy_document.runbook_operator.json
}
