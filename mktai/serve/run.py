"""Run the server: uvicorn in this process (--workers 1) or N worker processes.

SIGTERM / SIGINT: uvicorn stops accepting connections, lets in-flight requests finish (up to
--timeout seconds) and then exits 0; with N workers the supervisor forwards the signal.
"""

from __future__ import annotations

import os
import signal
import sys

from mktai.serve.config import ENV_CONFIG, ServeConfig


def uvicorn_options(config: ServeConfig) -> dict:
    return {
        "host": config.host,
        "port": config.port,
        "log_level": "warning",
        "access_log": False,  # guard.py writes one structured line per request instead
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": int(max(1, config.timeout)),
        "limit_concurrency": 1024,
        "server_header": False,
        "proxy_headers": False,
        "http": config.http,
        "loop": config.loop,
    }


def run(config: ServeConfig) -> None:
    """Serve until SIGTERM/SIGINT (blocking)."""
    import uvicorn

    config.check()
    os.environ[ENV_CONFIG] = config.to_env()
    token = "on" if config.token() else "off"
    served = ", ".join(config.models) if config.models else "every model in the store"
    sys.stderr.write(
        f"mktai serve: http://{config.host}:{config.port} store {config.store} "
        f"({served}; default model {config.default_model or 'none'}; workers {config.workers}; "
        f"token {token})\n"
    )
    sys.stderr.flush()
    if config.workers == 1:
        from mktai.serve.app import create_app

        server = uvicorn.Server(uvicorn.Config(create_app(config), **uvicorn_options(config)))
        # uvicorn re-raises the signal it shut down on; a clean SIGTERM shutdown exits 0
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
        server.run()
        return
    uvicorn.run("mktai.serve.app:factory", factory=True, workers=config.workers,
                **uvicorn_options(config))  # fmt: skip
