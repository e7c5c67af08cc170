"""A projector in a process of its own, for tests that kill it with SIGKILL.

    python -m tests.projections.projector_process CONNINFO [--batch-size N] [--follow]
                                                  [--rebuild-processes N]

Without ``--follow`` it catches up to the head and exits 0; with it, it follows the
log until SIGTERM; with ``--rebuild-processes`` it rebuilds every read model, filled in
that many processes. Its connections carry ``application_name`` = ``APPLICATION`` so a
test can watch its transactions in ``pg_stat_activity`` and kill it mid-batch.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from functools import partial
from pathlib import Path
from types import FrameType

from psycopg.conninfo import make_conninfo

from campledger.api.database.keystore import install_key_store
from campledger.projections.engine import Projector

APPLICATION = "campledger-test-projector"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("conninfo")
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--follow", action="store_true")
    parser.add_argument("--rebuild-processes", type=int, default=0)
    args = parser.parse_args()
    conninfo = make_conninfo(args.conninfo, application_name=APPLICATION)
    # A process of its own: the key store of the run's master key (tests/conftest.py).
    keys = Path(os.environ["CAMPLEDGER_MASTER_KEY_FILE"])
    install_key_store(keys)
    with Projector(
        conninfo, batch_size=args.batch_size, rebuild_processes=max(args.rebuild_processes, 1),
        process_setup=partial(install_key_store, keys),
    ) as projector:  # fmt: skip
        if args.rebuild_processes:
            projector.rebuild()
            return
        if not args.follow:
            projector.catch_up()
            return
        stop = threading.Event()

        def request_stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        projector.run_forever(stop, idle_timeout=0.5)


if __name__ == "__main__":
    main()
