output "tags" {
  value = var.tags
}