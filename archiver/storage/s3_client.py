"""The S3 client of the ``s3`` storage, and how its errors become the archiver's errors.

Credentials are never settings: boto3 reads them from its standard places (the
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` variables, ``AWS_SHARED_CREDENTIALS_FILE``,
``AWS_PROFILE``, an instance role), so they appear in no log, command line or
``archiver config`` output.

:func:`storage_error` classifies like the SciCat client does: throttling, 5xx, timeouts
and broken connections are transient (the step retries with backoff); a missing bucket,
refused access or an invalid storage class are permanent, with a message naming the
setting to fix; any other 4xx is permanent.
"""

from __future__ import annotations

from typing import Any

from archiver.errors import ConfigError, PermanentStorageError, StorageError, TransientStorageError
from archiver.settings import Settings

#: Error codes S3 services answer when they want the caller to slow down or try again.
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "TooManyRequests",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "OperationAborted",
    }
)
#: Codes meaning the credentials or their rights are wrong.
ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "AllAccessDisabled",
    }
)
CREDENTIALS_HINT = (
    "check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
    "AWS_SHARED_CREDENTIALS_FILE) and the bucket policy of ARCHIVER_S3_BUCKET"
)


def make_client(settings: Settings) -> Any:
    """A boto3 S3 client for ``settings`` (a few quick retries; the step retries the rest)."""
    if not settings.s3_bucket:
        raise ConfigError("ARCHIVER_STORAGE=s3 needs ARCHIVER_S3_BUCKET (the bucket name)")
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ConfigError(
            "ARCHIVER_STORAGE=s3 needs boto3: pip install 'scicat-archiver[s3]'"
        ) from exc
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=10,
        read_timeout=120,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path"},
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        config=config,
    )


def error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code") or "")
    return ""


def _status(exc: BaseException) -> int:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    return 0


def is_missing(exc: BaseException) -> bool:
    """``True`` when the error says the object (not the bucket) does not exist."""
    return error_code(exc) in ("NoSuchKey", "404", "NotFound") and _status(exc) in (0, 404)


def storage_error(exc: BaseException, what: str, bucket: str) -> StorageError:
    """The archiver error for a failed S3 call doing ``what`` (``"<operation> <path>"``,
    e.g. ``"uploading s3://bucket/key"``): its message, ``operation`` and ``path``."""
    found = _translated(exc, what, bucket)
    found.operation, _, found.path = what.partition(" ")
    return found


def _translated(exc: BaseException, what: str, bucket: str) -> StorageError:
    from botocore import exceptions as bx

    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return PermanentStorageError(
            f"{what}: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or AWS_SHARED_CREDENTIALS_FILE"
        )
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError):
        return TransientStorageError(
            f"{what}: cannot reach the S3 service (ARCHIVER_S3_ENDPOINT_URL): {exc}"
        )
    if isinstance(exc, bx.ReadTimeoutError | bx.ConnectionClosedError | bx.ResponseStreamingError):
        return TransientStorageError(f"{what}: the S3 connection broke: {exc}")
    if isinstance(exc, bx.ClientError):
        code, status = error_code(exc), _status(exc)
        message = str((exc.response.get("Error") or {}).get("Message") or code)
        if code in TRANSIENT_CODES or status == 429 or status >= 500:
            return TransientStorageError(f"{what}: S3 answered {code or status}: {message}")
        if code == "NoSuchBucket":
            return PermanentStorageError(
                f"{what}: bucket {bucket!r} does not exist: check ARCHIVER_S3_BUCKET "
                "(and ARCHIVER_S3_ENDPOINT_URL)"
            )
        if code in ACCESS_CODES or status == 403:
            return PermanentStorageError(f"{what}: S3 refused access ({code}): {CREDENTIALS_HINT}")
        if code == "InvalidStorageClass":
            return PermanentStorageError(
                f"{what}: the S3 service refuses the storage class: check ARCHIVER_S3_STORAGE_CLASS"
            )
        return PermanentStorageError(f"{what}: S3 answered {code or status}: {message}")
    if isinstance(exc, bx.BotoCoreError):
        return TransientStorageError(f"{what}: {exc}")
    return TransientStorageError(f"{what}: {exc}")


def s3_failures() -> tuple[type[BaseException], ...]:
    """The exception classes :func:`storage_error` turns into archiver errors."""
    from botocore import exceptions as bx

    return (bx.BotoCoreError, bx.ClientError, OSError)
