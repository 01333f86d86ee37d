output "website_url" {
  description = "Live website URL"
  value       = "https://www.${var.domain_name}"
}
