resource "aws_dynamodb_table" "hit_counter" {
  name           = "hit_counter${var.append}"
  billing_mode   = "PROVISIONED"
  read_capacity  = 1
  write_capacity = 1
  hash_key       = "record_id"

  attribute {
    name = "record_id"
    type = "S"
  }
}

resource "aws_dynamodb_table_item" "hit_count" {
  table_name = aws_dynamodb_table.hit_counter.name
  hash_key   = aws_dynamodb_table.hit_counter.hash_key
  item = jsonencode({
    "record_id" : { "S" : "0" },
    "hit_count" : { "N" : "0" }
  })

  lifecycle {
    ignore_changes = [
      item,
    ]
  }
}

resource "aws_dynamodb_table" "ip_address" {
  name           = "ip_addresses${var.append}"
  billing_mode   = "PROVISIONED"
  read_capacity  = 1
  write_capacity = 1
  hash_key       = "hashed_ip_address"

  attribute {
    name = "hashed_ip_address"
    type = "S"
  }

  ttl {
    // enabling TTL
    enabled = true

    // the attribute name which enforces TTL, must be a number
    attribute_name = "timestamp"
  }
}
