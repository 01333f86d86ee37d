variable "hit_counter_table_arn" {
}

variable "hit_counter_table_name" {
}

variable "ip_address_table_arn" {
}

variable "ip_address_table_name" {
}

variable "append" {
}
