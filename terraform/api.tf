resource "aws_apigatewayv2_api" "counter" {
  name          = "${local.name}-api"
  description   = "Public visitor counter API for ${var.bucket_name}."
  protocol_type = "HTTP"

  # API Gateway answers preflight requests and adds the CORS headers itself.
  cors_configuration {
    allow_origins = local.cors_origins
    allow_methods = ["GET", "POST", "OPTIONS"]
    allow_headers = ["content-type"]
    max_age       = 300
  }
}

resource "aws_apigatewayv2_integration" "counter" {
  api_id                 = aws_apigatewayv2_api.counter.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.counter.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "counter" {
  #checkov:skip=CKV_AWS_309:The public visitor counter: every visitor's browser calls /count anonymously. Abuse is capped by the stage throttling and the Lambda can only increment one item.
  for_each = toset(["GET /count", "POST /count"])

  api_id    = aws_apigatewayv2_api.counter.id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.counter.id}"
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default): the access log holds visitor IP addresses, kept no longer than needed (data minimisation); raise the variable if your policy requires a year.
  name              = local.log_group_names[1]
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.counter.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_throttle_rate_limit
    throttling_burst_limit = var.api_throttle_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId        = "$context.requestId"
      ip               = "$context.identity.sourceIp"
      requestTime      = "$context.requestTime"
      routeKey         = "$context.routeKey"
      status           = "$context.status"
      responseLength   = "$context.responseLength"
      integrationError = "$context.integrationErrorMessage"
    })
  }
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.counter.function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage, only the /count routes of this API.
  source_arn = "${aws_apigatewayv2_api.counter.execution_arn}/*/*/count"
}
