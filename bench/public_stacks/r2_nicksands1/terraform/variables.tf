variable "domain_name" {
  type        = string
  description = "Domain name of the website"
}

variable "bucket_name" {
  type        = string
  description = "Name of the bucket"
}
