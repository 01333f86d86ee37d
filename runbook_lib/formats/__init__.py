"""File formats: DynamoDB JSON, item backup files, table export files, atomic writes.
Pure: nothing here imports AWS code."""
