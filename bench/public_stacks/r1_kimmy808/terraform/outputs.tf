output "region" {
  value = var.aws_region
}
