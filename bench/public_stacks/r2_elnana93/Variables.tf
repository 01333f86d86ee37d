variable "aws_region" {
  type        = string
  description = "AWS region"
  default     = "us-west-2"
}
