variable "append" {
}
