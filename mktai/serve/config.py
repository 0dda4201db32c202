"""ServeConfig: what `mktai serve` was asked to do, checked before any server starts.

Light on purpose (no FastAPI, no pandas): the CLI builds and validates it, then hands it to the
worker processes through one environment variable as JSON (the token itself is re-read there
from MKTAI_SERVE_TOKEN or the token file, never written into that JSON).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from mktai.errors import UsageError

ENV_CONFIG = "MKTAI_SERVE_CONFIG"
ENV_TOKEN = "MKTAI_SERVE_TOKEN"
MB = 1024 * 1024


@dataclass
class ServeConfig:
    """Options of one server; every limit has a safe default."""

    store: str = "mktai-store"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    models: list[str] = field(default_factory=list)  # NAME or NAME@alias; empty: every model
    all_models: bool = True
    default_model: str | None = None
    token_file: str | None = None
    max_body: int = 10 * MB
    max_rows: int = 100_000
    max_json_depth: int = 32
    timeout: float = 60.0  # seconds for reading the body and answering
    verify_every: float = 60.0  # seconds between full sha256 re-checks of a cached model
    log_requests: bool = True
    http: str = "auto"  # uvicorn's HTTP parser: auto (httptools if installed) | h11 | httptools
    loop: str = "auto"  # uvicorn's event loop: auto (uvloop if installed) | asyncio | uvloop

    def check(self) -> ServeConfig:
        """Refuse unsafe or impossible settings with the one-line message the CLI prints."""
        if self.workers < 1:
            raise UsageError(f"--workers {self.workers}: give 1 or more worker processes")
        if not 0 < self.port < 65536:
            raise UsageError(f"--port {self.port}: give a TCP port between 1 and 65535")
        if self.max_body < 1024:
            raise UsageError(f"--max-body {self.max_body}: give at least 1024 bytes")
        if self.max_rows < 1:
            raise UsageError(f"--max-rows {self.max_rows}: give at least 1")
        if self.timeout <= 0:
            raise UsageError(f"--timeout {self.timeout}: give a positive number of seconds")
        if self.models and self.all_models:
            raise UsageError("give either --models NAME,... or --all, not both")
        if self.token_file is not None:
            read_token_file(self.token_file)
        if not is_loopback(self.host) and self.token() is None:
            raise UsageError(
                f"--host {self.host} is not a loopback address: set a token with --token-file "
                f"FILE or ${ENV_TOKEN} (clients send 'Authorization: Bearer TOKEN')"
            )
        return self

    def token(self) -> str | None:
        """The bearer token (token file first, then $MKTAI_SERVE_TOKEN), or None."""
        if self.token_file:
            return read_token_file(self.token_file)
        value = os.environ.get(ENV_TOKEN, "").strip()
        if value and len(value) < 16:
            raise UsageError(f"${ENV_TOKEN}: the token must be at least 16 characters")
        return value or None

    def to_env(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls) -> ServeConfig:
        raw = os.environ.get(ENV_CONFIG)
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except ValueError:
            raise UsageError(f"${ENV_CONFIG} is not valid JSON") from None
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if isinstance(values.get("models"), str):  # as the CLI passes --models
            values["models"] = parse_models(values["models"])
        if isinstance(values.get("max_body"), str):
            values["max_body"] = parse_size(values["max_body"], "--max-body")
        if "all_models" not in values:
            values["all_models"] = not values.get("models")
        return cls(**values)


def read_token_file(path: str) -> str:
    """The first line of the token file; refused when missing, empty or too short."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"--token-file {path}: cannot read it ({exc.strerror or exc})") from None
    token = text.splitlines()[0].strip() if text else ""
    if len(token) < 16:
        raise UsageError(
            f"--token-file {path}: the token must be at least 16 characters "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return token


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost are loopback; 0.0.0.0 and every other address are not."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_models(text: str | None) -> list[str]:
    """--models response,reviews@production -> ["response", "reviews@production"]."""
    if not text:
        return []
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise UsageError("--models: give model names separated by commas, e.g. response,reviews")
    return list(dict.fromkeys(names))


def parse_size(text: str, option: str) -> int:
    """'10MB', '512k', '1048576' -> bytes."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*", str(text).lower())
    if not match:
        raise UsageError(f"{option} {text!r}: give a size like 10MB, 512KB or 1048576")
    factor = {"": 1, "k": 1024, "m": MB, "g": 1024 * MB}[match.group(2)]
    return int(float(match.group(1)) * factor)
