"""``commitments worker`` processes for tests: started against the test's database, every wait
bounded, and only the processes this helper started are stopped or killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class Workers:
    def __init__(self, database_url: str, log_dir: Path, retry_seconds: int = 3) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMITMENTS_", "DATABASE_URL"))}
        self.env.update({"DATABASE_URL": database_url, "COMMITMENTS_CLOSE_SCHEDULE": "off",
                         "COMMITMENTS_JOB_RETRY_SECONDS": str(retry_seconds), "COMMITMENTS_LOG_LEVEL": "INFO"})
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen([sys.executable, "-m", "app.cli", "worker", "--concurrency", "1"],
                                   cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no clean-up runs in the worker."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()  # SIGTERM: the worker finishes its jobs in hand, then exits
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob("worker-*.log")))
