locals {
  s3_origin_id = "aitc-s3-origin"
}
