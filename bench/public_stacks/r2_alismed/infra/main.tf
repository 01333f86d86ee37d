module "database" {
  source     = "./database"
  table_name = var.table_name
  region     = var.region
  profile    = var.profile

}
