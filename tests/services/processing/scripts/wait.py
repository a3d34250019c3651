"""A processing script that runs until it is stopped, saying so on SIGTERM.

It writes started.txt (with its pid) to the folder given as its first argument and
terminated.txt there when SIGTERM arrives.
"""

import os
import signal
import sys
import time
from pathlib import Path

folder = Path(sys.argv[1])
folder.mkdir(parents=True, exist_ok=True)


def on_term(signum, frame):
    (folder / "terminated.txt").write_text("SIGTERM\n")
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
(folder / "started.txt").write_text(f"{os.getpid()}\n")
print("waiting to be stopped", flush=True)
while True:
    time.sleep(0.05)
