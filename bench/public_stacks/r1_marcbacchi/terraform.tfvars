domain_name = "marcbacchi.dev"
bucket_name = "marcbacchi.dev"

common_tags = {
  Project = "marcbacchiresume"
}