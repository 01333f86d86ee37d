variable "zone_id" {
  default = "0adfc2892399723ecd3d8152f73b5922"
}

variable "domain_name" {
  default = "teepstech.com"
}
