module "dynamodb" {
  source        = "./dynamodb"
  append         = var.append
}
