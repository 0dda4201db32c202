"""`python -m mktai.serve`: the server process `mktai serve` execs (options in $MKTAI_SERVE_CONFIG).

The CLI never imports this package (cli/ and serve/ are independent layers): it writes its
options as JSON into the environment and replaces itself with this process, so signals from
systemd or Docker reach the server directly and its exit code is the command's.
"""

from __future__ import annotations

import sys

from mktai.errors import EXIT_INTERNAL, MktaiError


def main() -> int:
    from mktai.serve.config import ServeConfig

    try:
        config = ServeConfig.from_env().check()
        from mktai.serve.run import run

        run(config)
    except MktaiError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line, never a traceback (MKTAI_DEBUG=1 shows it)
        import os

        if os.environ.get("MKTAI_DEBUG"):
            raise
        sys.stderr.write(f"error: internal error: {type(exc).__name__}: {exc}\n")
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())
