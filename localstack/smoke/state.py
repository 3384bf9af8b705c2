"""Smoke-test steps for where a provisioner keeps state: S3 (with a conditional-write lock),
DynamoDB and SSM parameters."""

from botocore.exceptions import ClientError
from runner import CheckFailed, Run, expect


def state_steps(run: Run, tag: str) -> None:
    s3, dynamodb, ssm = run.client("s3"), run.client("dynamodb"), run.client("ssm")
    bucket, table, parameter = f"state-{tag}", f"locks-{tag}", f"/gateway/{tag}/version"

    def bucket_lock():
        s3.create_bucket(Bucket=bucket)
        run.on_cleanup("bucket", lambda: s3.delete_bucket(Bucket=bucket))
        run.on_cleanup("lock object", lambda: s3.delete_object(Bucket=bucket, Key="lock"))
        s3.put_object(Bucket=bucket, Key="lock", Body=b"holder-1", IfNoneMatch="*")
        try:
            s3.put_object(Bucket=bucket, Key="lock", Body=b"holder-2", IfNoneMatch="*")
        except ClientError as err:
            code = err.response["Error"]["Code"]
            expect(code, "PreconditionFailed", "second conditional write")
        else:
            raise CheckFailed("a second If-None-Match: * write of the lock succeeded")
        body = s3.get_object(Bucket=bucket, Key="lock")["Body"].read()
        expect(body, b"holder-1", "lock holder")

    def lock_table():
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        run.on_cleanup("dynamodb table", lambda: dynamodb.delete_table(TableName=table))
        item = {"LockID": {"S": "stack"}, "Holder": {"S": "check"}}
        dynamodb.put_item(
            TableName=table, Item=item, ConditionExpression="attribute_not_exists(LockID)"
        )
        try:
            dynamodb.put_item(
                TableName=table, Item=item, ConditionExpression="attribute_not_exists(LockID)"
            )
        except ClientError as err:
            code = err.response["Error"]["Code"]
            expect(code, "ConditionalCheckFailedException", "second conditional put")
        else:
            raise CheckFailed("a second conditional put of the lock succeeded")
        got = dynamodb.get_item(TableName=table, Key={"LockID": {"S": "stack"}})["Item"]
        expect(got["Holder"], {"S": "check"}, "lock item")

    def parameter_step():
        ssm.put_parameter(Name=parameter, Value="1.0.0", Type="String")
        run.on_cleanup("ssm parameter", lambda: ssm.delete_parameter(Name=parameter))
        got = ssm.get_parameter(Name=parameter)["Parameter"]
        expect(got["Value"], "1.0.0", "parameter value")

    run.step("s3 CreateBucket + conditional PutObject lock", bucket_lock)
    run.step("dynamodb CreateTable + conditional PutItem", lock_table)
    run.step("ssm PutParameter", parameter_step)
