output "custom_domain_url" {
  description = "Custom domain URL"
  value       = "https://${var.domain_name}"
}

output "dynamodb_table_name" {
  description = "DynamoDB table name for view counter"
  value       = aws_dynamodb_table.view_counter.name
}

output "ik_website_url" {
  description = "IK website URL"
  value       = "https://ik.${var.domain_name}"
}

output "gallery_url" {
  description = "Gallery URL"
  value       = "https://gallery.${var.domain_name}"
}
