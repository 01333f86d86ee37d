variable "GET_lambda_invoke" {
}

variable "POST_lambda_invoke" {
}

variable "GET_lambda_name" {
}

variable "POST_lambda_name" {
}

variable "append" {
}
