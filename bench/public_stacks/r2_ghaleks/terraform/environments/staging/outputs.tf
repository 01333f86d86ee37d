output "counter_table" {
  value = module.visitor_counter_table.table_name
  description = "Name der Counter-DynamoDB-Tabelle"
}

output "feedback_table" {
  value = module.feedback_table.table_name
  description = "Name der Feedback-DynamoDB-Tabelle"
}
