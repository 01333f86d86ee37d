locals {
  alarm_names = {
    count_dropped      = "${local.name}-count-dropped"
    lambda_errors      = "${local.name}-lambda-errors"
    dynamodb_throttles = "${local.name}-dynamodb-throttles"
  }
}

# (a) The count went DOWN: the one thing a visitor counter must never do (a reset by an
# aws_dynamodb_table_item, a bad restore, a manual put-item). The Lambda publishes the
# new count as ViewCount (Maximum per period is the latest count); DIFF of consecutive
# values is negative only when it fell. FILL(m1, REPEAT) carries the last value across
# periods without visits so a drop after a quiet spell is still a negative step.
resource "aws_cloudwatch_metric_alarm" "count_dropped" {
  alarm_name          = local.alarm_names.count_dropped
  alarm_description   = "The visitor count in ${local.table_name} decreased: it was reset or overwritten. Run the runbook's 02_status and 05_history notebooks, then restore (04_backup_restore)."
  comparison_operator = "LessThanThreshold"
  threshold           = 0
  evaluation_periods  = 3
  datapoints_to_alarm = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "drop"
    expression  = "DIFF(FILL(m1, REPEAT))"
    label       = "Change in ${var.metric_name}"
    return_data = true
  }

  metric_query {
    id = "m1"

    metric {
      namespace   = var.metric_namespace
      metric_name = var.metric_name
      period      = var.alarm_period_seconds
      stat        = "Maximum"
      dimensions = {
        TableName = aws_dynamodb_table.counter.name
      }
    }
  }
}

# (b) The Lambda failed: visits are not being counted.
resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = local.alarm_names.lambda_errors
  alarm_description   = "The visitor counter Lambda ${local.function_name} returned errors: visits are not counted. Read its log group ${aws_cloudwatch_log_group.lambda.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  dimensions = {
    FunctionName = aws_lambda_function.counter.function_name
  }
}

# (c) DynamoDB throttled reads or writes on the table: on-demand tables throttle only
# past account/partition limits, so any throttle deserves a look.
resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  alarm_name          = local.alarm_names.dynamodb_throttles
  alarm_description   = "DynamoDB throttled requests on ${local.table_name} (ReadThrottleEvents + WriteThrottleEvents > 0)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "throttles"
    expression  = "FILL(r, 0) + FILL(w, 0)"
    label       = "Read + write throttle events"
    return_data = true
  }

  metric_query {
    id = "r"

    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "ReadThrottleEvents"
      period      = var.alarm_period_seconds
      stat        = "Sum"
      dimensions = {
        TableName = aws_dynamodb_table.counter.name
      }
    }
  }

  metric_query {
    id = "w"

    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "WriteThrottleEvents"
      period      = var.alarm_period_seconds
      stat        = "Sum"
      dimensions = {
        TableName = aws_dynamodb_table.counter.name
      }
    }
  }
}
