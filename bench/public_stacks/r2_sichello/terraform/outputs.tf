output "public_url" {
  value = var.root_domain_name
}
