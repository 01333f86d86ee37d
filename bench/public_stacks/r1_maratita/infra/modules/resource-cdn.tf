locals {
  s3_origin_id = "michaelmaratita-s3"
}
