variable "bucket_name" {
  description = "The website's S3 bucket / domain name (e.g. resume.example.com). Every resource name derives from it: the table is \"<bucket_name>-VisitorCount\", the function \"<bucket_name with dots as dashes>-visitor-counter\"."
  type        = string
  default     = "resume.example.com"

  validation {
    # 40 keeps the derived IAM role name ("<name>-visitor-counter-role") under IAM's 64.
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,38}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-40 characters of lowercase letters, digits, '.' and '-', starting and ending with a letter or digit."
  }
}

variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection on the counter table. Keep true: the table holds the only copy of the count. Turn off only in a change that also deletes the table on purpose."
  type        = bool
  default     = true
}

variable "metric_namespace" {
  description = "CloudWatch namespace of the ViewCount metric the Lambda publishes in Embedded Metric Format."
  type        = string
  default     = "VisitorCounter"

  validation {
    condition     = length(var.metric_namespace) > 0 && length(var.metric_namespace) <= 255 && !startswith(var.metric_namespace, "AWS/")
    error_message = "metric_namespace must be 1-255 characters and must not start with \"AWS/\" (reserved)."
  }
}

variable "metric_name" {
  description = "CloudWatch metric name of the counter value (dimension TableName, unit Count)."
  type        = string
  default     = "ViewCount"

  validation {
    condition     = length(var.metric_name) > 0 && length(var.metric_name) <= 255
    error_message = "metric_name must be 1-255 characters."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda and API access log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "lambda_zip_path" {
  description = "Path of the Lambda deployment zip. null means <module>/lambda/build/visitor_counter.zip, built deterministically from lambda/visitor_counter.py by runbook_lib.terraform.build_lambda_zip() (no archive provider needed)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_zip_path == null || endswith(coalesce(var.lambda_zip_path, "-"), ".zip")
    error_message = "lambda_zip_path must be a .zip file."
  }
}

variable "lambda_timeout_seconds" {
  description = "Lambda timeout. One UpdateItem takes milliseconds; a short timeout caps the cost of a stuck call."
  type        = number
  default     = 10

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 29
    error_message = "lambda_timeout_seconds must be 1-29 (API Gateway's integration timeout is 30 s)."
  }
}

variable "lambda_memory_mb" {
  description = "Lambda memory size in MB."
  type        = number
  default     = 128

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be 128-10240."
  }
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser. null means [\"https://<bucket_name>\"]."
  type        = list(string)
  default     = null
}

variable "api_throttle_rate_limit" {
  description = "Steady-state requests per second the API's $default stage accepts: caps what a bot can cost you."
  type        = number
  default     = 20

  validation {
    condition     = var.api_throttle_rate_limit > 0
    error_message = "api_throttle_rate_limit must be positive."
  }
}

variable "api_throttle_burst_limit" {
  description = "Burst of requests the API's $default stage accepts."
  type        = number
  default     = 40

  validation {
    condition     = var.api_throttle_burst_limit > 0
    error_message = "api_throttle_burst_limit must be positive."
  }
}

variable "alarm_period_seconds" {
  description = "Period of the CloudWatch alarms, in seconds."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.alarm_period_seconds)
    error_message = "alarm_period_seconds must be 60, 300, 900 or 3600."
  }
}

variable "alarm_actions" {
  description = "ARNs (e.g. SNS topics) notified when an alarm fires and when it recovers. Empty: the alarms only change state."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags applied to every resource (provider default_tags)."
  type        = map(string)
  default = {
    project    = "visitor-counter"
    managed-by = "terraform"
  }
}
