"""The boto3 types the package hands around: clients of each service, the session, and the
few request and answer shapes (TypedDicts, literals) that pass through our own signatures.

For mypy they are boto3-stubs' classes (mypy_boto3_<service>), so a wrong request key or a
misread answer fails `make lint` before a test runs. The stubs are a dev dependency
(requirements-dev.txt), not a run-time one: they are imported for the type checker only, and
at run time every name here is `Any`. Modules above aws/ import these names from here, never
boto3 or the stubs themselves (tests/unit/test_architecture.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.session import Session as Session
    from mypy_boto3_cloudwatch import CloudWatchClient as CloudWatchClient
    from mypy_boto3_cloudwatch.literals import ScanByType as ScanByType
    from mypy_boto3_cloudwatch.type_defs import MetricAlarmTypeDef as MetricAlarmTypeDef
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef as MetricDataQueryTypeDef
    from mypy_boto3_cloudwatch.type_defs import MetricTypeDef as MetricTypeDef
    from mypy_boto3_dynamodb import DynamoDBClient as DynamoDBClient
    from mypy_boto3_dynamodb.literals import ScalarAttributeTypeType as ScalarAttributeTypeType
    from mypy_boto3_dynamodb.type_defs import BackupDescriptionTypeDef as BackupDescriptionTypeDef
    from mypy_boto3_dynamodb.type_defs import PaginatorConfigTypeDef as PaginatorConfigTypeDef
    from mypy_boto3_dynamodb.type_defs import (
        RestoreTableToPointInTimeInputTypeDef as RestoreTableToPointInTimeInputTypeDef,
    )
    from mypy_boto3_dynamodb.type_defs import TableDescriptionTypeDef as TableDescriptionTypeDef
    from mypy_boto3_dynamodb.type_defs import UpdateItemInputTypeDef as UpdateItemInputTypeDef
    from mypy_boto3_s3 import S3Client as S3Client
    from mypy_boto3_sts import STSClient as STSClient
else:  # run time: nothing imported (annotations are strings under `from __future__`)
    Session = DynamoDBClient = CloudWatchClient = S3Client = STSClient = Any
    MetricAlarmTypeDef = MetricDataQueryTypeDef = MetricTypeDef = ScanByType = Any
    BackupDescriptionTypeDef = PaginatorConfigTypeDef = TableDescriptionTypeDef = Any
    RestoreTableToPointInTimeInputTypeDef = ScalarAttributeTypeType = UpdateItemInputTypeDef = Any

__all__ = [
    "BackupDescriptionTypeDef",
    "CloudWatchClient",
    "DynamoDBClient",
    "MetricAlarmTypeDef",
    "MetricDataQueryTypeDef",
    "MetricTypeDef",
    "PaginatorConfigTypeDef",
    "RestoreTableToPointInTimeInputTypeDef",
    "S3Client",
    "STSClient",
    "ScalarAttributeTypeType",
    "ScanByType",
    "Session",
    "TableDescriptionTypeDef",
    "UpdateItemInputTypeDef",
]
