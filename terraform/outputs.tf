# The runbook reads these (`terraform output -json`) to find what it operates on.

output "table_name" {
  description = "DynamoDB table holding the counter item."
  value       = aws_dynamodb_table.counter.name
}

output "table_arn" {
  description = "ARN of the counter table."
  value       = aws_dynamodb_table.counter.arn
}

output "key_name" {
  description = "Hash key attribute of the counter item."
  value       = local.key_name
}

output "key_value" {
  description = "Hash key value of the counter item."
  value       = local.key_value
}

output "count_attribute" {
  description = "Number attribute holding the count."
  value       = local.count_attribute
}

output "function_name" {
  description = "The counter Lambda."
  value       = aws_lambda_function.counter.function_name
}

output "api_id" {
  description = "HTTP API id."
  value       = aws_apigatewayv2_api.counter.id
}

output "api_url" {
  description = "URL the website calls (GET or POST) to count a visit."
  value       = "${trimsuffix(aws_apigatewayv2_stage.default.invoke_url, "/")}/count"
}

output "metric_namespace" {
  description = "Namespace of the ViewCount metric (EMF, dimension TableName)."
  value       = var.metric_namespace
}

output "metric_name" {
  description = "Name of the count metric (EMF, dimension TableName)."
  value       = var.metric_name
}

output "lambda_log_group_name" {
  description = "The Lambda's log group (handler errors and EMF lines)."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "api_access_log_group_name" {
  description = "The API's access log group."
  value       = aws_cloudwatch_log_group.api_access.name
}

output "alarm_names" {
  description = "CloudWatch alarm names by purpose: count_dropped, lambda_errors, dynamodb_throttles."
  value = {
    count_dropped      = aws_cloudwatch_metric_alarm.count_dropped.alarm_name
    lambda_errors      = aws_cloudwatch_metric_alarm.lambda_errors.alarm_name
    dynamodb_throttles = aws_cloudwatch_metric_alarm.dynamodb_throttles.alarm_name
  }
}

output "runbook_operator_policy_arn" {
  description = "IAM policy of the runbook's operators (report + the runbook's writes); attached to the operator role, attach it to users or groups directly if you don't use roles."
  value       = aws_iam_policy.runbook_operator.arn
}

output "runbook_report_policy_arn" {
  description = "IAM policy of the runbook's read-only report role (02_status, 06_history)."
  value       = aws_iam_policy.runbook_report.arn
}

output "runbook_report_role_arn" {
  description = "Role for schedulers and people running read-only reports (AWS_PROFILE with role_arn, or role-to-assume in CI)."
  value       = aws_iam_role.runbook_report.arn
}

output "runbook_operator_role_arn" {
  description = "Role for people (and scheduled backups) running the runbook's writes: set, backup, restore."
  value       = aws_iam_role.runbook_operator.arn
}
