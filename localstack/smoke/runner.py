"""The smoke test's machinery: AWS clients for the endpoint, steps reported OK/FAIL, cleanups."""

import os
import time

import boto3
from botocore.config import Config

REGION = "us-east-1"


def endpoint() -> str:
    explicit = os.environ.get("LOCALSTACK_ENDPOINT", "").strip()
    if explicit:
        return explicit.rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}"


class CheckFailed(Exception):
    """A value read back differs from what was sent."""


def expect(actual, wanted, what: str) -> None:
    if actual != wanted:
        raise CheckFailed(f"{what}: expected {wanted!r}, got {actual!r}")


class Run:
    """Runs steps, records outcomes and the cleanup actions of what was created."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.passed = 0
        self.failures = 0
        self.ids: dict[str, str] = {}
        self.cleanups: list[tuple[str, object]] = []
        # No retries: a broken call should fail now, not after backoff.
        self.config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5)

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=self.config,
        )

    def step(self, name: str, fn) -> None:
        started = time.monotonic()
        try:
            detail = fn()
        except Exception as err:  # noqa: BLE001 - every failure is reported the same way
            self.failures += 1
            print(f"FAIL {name}: {type(err).__name__}: {err}", flush=True)
            return
        self.passed += 1
        ms = (time.monotonic() - started) * 1000
        print(
            f"OK   {name} ({ms:.0f} ms){': ' + detail if isinstance(detail, str) else ''}",
            flush=True,
        )

    def need(self, *keys: str) -> list[str]:
        missing = [k for k in keys if k not in self.ids]
        if missing:
            raise CheckFailed(f"skipped, an earlier step did not create {', '.join(missing)}")
        return [self.ids[k] for k in keys]

    def on_cleanup(self, name: str, fn) -> None:
        self.cleanups.append((name, fn))

    def cleanup(self) -> None:
        for name, fn in reversed(self.cleanups):
            self.step(f"delete {name}", fn)
