domain_name = "nicksands.net"
bucket_name = "nicksands.net"
