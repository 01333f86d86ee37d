variable "TOKEN" {
  type      = string
  sensitive = true
}

variable "BACKEND" {
  type      = string
  sensitive = true
}

variable "DOMAIN_NAME" {
  type      = string
  sensitive = true
}

variable "ACM_ARN" {
  type      = string
  sensitive = true
}

variable "EMAIL" {
  type      = string
  sensitive = false
}
