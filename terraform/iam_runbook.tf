# Who may run the runbook, and what it may do: two roles for people and schedulers.
#
#   report    read only: the status check (02_status) and the history (06_history), every
#             morning from a scheduler; can publish its HTML to the reports bucket.
#   operator  report, plus the writes the runbook makes: the conditional UpdateItem/PutItem
#             on the counter item (01_init, 03_set_count, restores), native backups, PITR,
#             export/restore of the table, and restores into NEW "<table>-restored-*" tables.
#
# Both roles trust var.runbook_principals; by default the account root, which delegates the
# decision to IAM in this account: any user or role whose own policy allows sts:AssumeRole
# on the role. Attach the policies directly to a user or group instead if you don't use
# roles (runbook_report_policy_arn, runbook_operator_policy_arn).
#
# sts:GetCallerIdentity (the banner and the audit log's "who") needs no permission: AWS
# always allows it.

variable "runbook_principals" {
  description = "ARNs of the IAM users/roles (or accounts) allowed to assume the runbook's report and operator roles. Empty: this account's root, i.e. any principal of the account whose own IAM policy allows sts:AssumeRole on the role."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.runbook_principals : can(regex("^(arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:.+|[0-9]{12})$", p))])
    error_message = "runbook_principals must hold IAM ARNs (arn:aws:iam::123456789012:user/alice, ...:role/ci) or 12-digit account IDs."
  }
}

variable "runbook_reports_bucket" {
  description = "S3 bucket the runbook publishes reports to (`runbook run NAME --out s3://BUCKET/PREFIX`). null: the roles get no S3 access."
  type        = string
  default     = null

  validation {
    condition     = var.runbook_reports_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.runbook_reports_bucket, "-")))
    error_message = "runbook_reports_bucket must be an S3 bucket name (3-63 lowercase letters, digits, '.', '-')."
  }
}

variable "runbook_reports_prefix" {
  description = "Key prefix under runbook_reports_bucket the roles may write to, e.g. \"counter/\" for --out s3://BUCKET/counter. Empty: the whole bucket."
  type        = string
  default     = ""

  validation {
    condition     = !startswith(var.runbook_reports_prefix, "/") && !strcontains(var.runbook_reports_prefix, "*")
    error_message = "runbook_reports_prefix must not start with '/' nor contain '*'."
  }
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  account_root_arn    = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  runbook_principals  = length(var.runbook_principals) > 0 ? var.runbook_principals : [local.account_root_arn]
  table_backups_arn   = "${aws_dynamodb_table.counter.arn}/backup/*"
  restored_tables_arn = "${aws_dynamodb_table.counter.arn}-restored-*"
  # IAM role names are limited to 64 characters: bucket_name (<= 40, dots as dashes) +
  # "-counter-operator" (17) fits; "<local.name>-operator" would not.
  runbook_role_prefix = "${replace(var.bucket_name, ".", "-")}-counter"
  alarms_arn          = "arn:${data.aws_partition.current.partition}:cloudwatch:${var.region}:${data.aws_caller_identity.current.account_id}:alarm:*"
  reports_objects_arn = var.runbook_reports_bucket == null ? null : "arn:${data.aws_partition.current.partition}:s3:::${var.runbook_reports_bucket}/${var.runbook_reports_prefix}*"
}

# ---- report: read only ---------------------------------------------------------------------

data "aws_iam_policy_document" "runbook_report" {
  statement {
    sid = "CounterItemAndTable"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:GetItem",
    ]
    resources = [aws_dynamodb_table.counter.arn]
  }

  statement {
    sid       = "DescribeTableBackups"
    actions   = ["dynamodb:DescribeBackup"]
    resources = [local.table_backups_arn]
  }

  statement {
    sid       = "ListBackups"
    actions   = ["dynamodb:ListBackups"]
    resources = ["*"] # ListBackups has no resource-level permissions
  }

  statement {
    sid = "MetricsAndAlarms"
    actions = [
      "cloudwatch:GetMetricData",
      "cloudwatch:GetMetricStatistics",
      "cloudwatch:ListMetrics",
    ]
    resources = ["*"] # metric reads have no resource-level permissions
  }

  # DescribeAlarms without names (how 02_status lists metric alarms) is authorized against
  # "alarm:*" of the region. Composite alarms would need "*"; the runbook reads none.
  statement {
    sid       = "DescribeAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = [local.alarms_arn]
  }

  # The scheduled 02_status / 06_history publish their HTML with --out s3://...; papermill
  # writes each object with the bucket-owner-full-control ACL, which needs PutObjectAcl.
  dynamic "statement" {
    for_each = local.reports_objects_arn == null ? [] : [local.reports_objects_arn]

    content {
      sid       = "PublishReports"
      actions   = ["s3:PutObject", "s3:PutObjectAcl"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "s3:x-amz-acl"
        values   = ["bucket-owner-full-control"]
      }
    }
  }
}

# ---- operator: report + the runbook's writes -------------------------------------------------

data "aws_iam_policy_document" "runbook_operator" {
  source_policy_documents = [data.aws_iam_policy_document.runbook_report.json]

  # Every write the runbook makes to the live table is to the counter item (conditional
  # UpdateItem/PutItem; a restore's BatchWriteItem of the table's items). LeadingKeys keeps
  # the role to that item: it can never write or overwrite anything else in the table.
  statement {
    sid = "WriteCounterItem"
    actions = [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:BatchWriteItem",
    ]
    resources = [aws_dynamodb_table.counter.arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = [local.key_value]
    }
  }

  # Export (Scan) and the restore's read-back check (BatchGetItem).
  statement {
    sid       = "ExportTable"
    actions   = ["dynamodb:Scan", "dynamodb:BatchGetItem"]
    resources = [aws_dynamodb_table.counter.arn]
  }

  statement {
    sid = "BackupsAndPitr"
    actions = [
      "dynamodb:CreateBackup",
      "dynamodb:UpdateContinuousBackups",
    ]
    resources = [aws_dynamodb_table.counter.arn]
  }

  # Restores only ever create a NEW table "<table>-restored-<suffix>": the restore actions
  # are granted on the source (backup / live table) and on those names, and DynamoDB needs
  # write access to the target table, which only "-restored-*" tables get (below).
  statement {
    sid       = "RestoreFromBackup"
    actions   = ["dynamodb:RestoreTableFromBackup"]
    resources = [local.table_backups_arn, local.restored_tables_arn]
  }

  statement {
    sid       = "RestoreToPointInTime"
    actions   = ["dynamodb:RestoreTableToPointInTime"]
    resources = [aws_dynamodb_table.counter.arn, local.restored_tables_arn]
  }

  statement {
    sid = "RestoredTables"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
    ]
    resources = [local.restored_tables_arn]
  }
}

# ---- policies, roles, attachments ------------------------------------------------------------

resource "aws_iam_policy" "runbook_report" {
  name        = "${local.name}-runbook-report"
  description = "counter-runbook report: read the visitor count, backups, metrics and alarms of ${local.table_name}."
  policy      = data.aws_iam_policy_document.runbook_report.json
}

resource "aws_iam_policy" "runbook_operator" {
  name        = "${local.name}-runbook-operator"
  description = "counter-runbook operator: read and repair the visitor count of ${local.table_name}."
  policy      = data.aws_iam_policy_document.runbook_operator.json
}

data "aws_iam_policy_document" "runbook_assume" {
  statement {
    sid     = "RunbookPrincipals"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = local.runbook_principals
    }
  }
}

resource "aws_iam_role" "runbook_report" {
  name                 = "${local.runbook_role_prefix}-report"
  description          = "counter-runbook, read only: 02_status and 06_history on ${local.table_name}."
  assume_role_policy   = data.aws_iam_policy_document.runbook_assume.json
  max_session_duration = 3600
}

resource "aws_iam_role" "runbook_operator" {
  name                 = "${local.runbook_role_prefix}-operator"
  description          = "counter-runbook, read and repair: set, back up and restore the count of ${local.table_name}."
  assume_role_policy   = data.aws_iam_policy_document.runbook_assume.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "runbook_report" {
  role       = aws_iam_role.runbook_report.name
  policy_arn = aws_iam_policy.runbook_report.arn
}

# The operator policy already holds every report statement (source_policy_documents).
resource "aws_iam_role_policy_attachment" "runbook_operator" {
  role       = aws_iam_role.runbook_operator.name
  policy_arn = aws_iam_policy.runbook_operator.arn
}
