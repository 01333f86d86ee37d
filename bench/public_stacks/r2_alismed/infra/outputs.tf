output "dynamodb_table_arn" {
  description = "ARN da tabela DynamoDB de visitantes"
  value       = module.database.visitors_table_arn
}

output "dynamodb_table_name" {
  description = "Nome da tabela DynamoDB de visitantes"
  value       = module.database.visitors_table_name
}
