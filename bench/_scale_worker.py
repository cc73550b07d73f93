"""One ``worker`` Angie as its own OS process for bench_scale: the scripted model, its own
supervised Hue MCP server against the bench's fake bridge, the shared database and Redis.

Everything comes from the environment the bench sets: ``ANGIE_DATABASE_URL``,
``ANGIE_REDIS_URL``, ``ANGIE_DATA_DIR``, ``BENCH_HUE_HOST``, ``BENCH_HUE_USERNAME`` and
``BENCH_THREADS``. It prints ``ready`` once it consumes the queue and stops on SIGTERM, as
``angie worker`` does; SIGKILL is the crash the bench's kill run is about.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from angie.daemon import Angie
from angie.mcp.registry import builtin_specs
from angie.settings import AngieSettings

if TYPE_CHECKING:  # mypy checks bench/ as the namespace package `bench`
    from bench import _angie_harness as harness
else:  # run as a script: bench/ itself is on sys.path
    import _angie_harness as harness


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    data_dir = Path(os.environ["ANGIE_DATA_DIR"])
    # Only the settings the bench means: no .env file, the rest from ANGIE_* variables.
    settings = AngieSettings(_env_file=None, data_dir=data_dir, mcp_timeout=20)
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(data_dir),
        "ANGIE_HUE_BRIDGE_HOST": os.environ["BENCH_HUE_HOST"],
        "ANGIE_HUE_USERNAME": os.environ["BENCH_HUE_USERNAME"],
    }
    angie = Angie(
        settings,
        role="worker",
        api=False,
        specs=builtin_specs(["hue"]),
        environ=environ,
        model_for=harness.script_model,
        worker_threads=int(os.environ.get("BENCH_THREADS", "4")),
        scheduler=False,
    )

    async def started() -> None:
        print("ready", flush=True)

    await angie.run(grace=5, started=started)


if __name__ == "__main__":
    asyncio.run(main())
