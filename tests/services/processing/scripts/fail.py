"""A processing script that fails: with an exit message when asked to, else with a traceback."""

import os
import sys

if len(sys.argv) > 1 and sys.argv[1] == "--with-message":
    with open("/opt/ml/output/message", "w") as handle:
        handle.write("bad input: column 'x3' is missing")
    print("stopping with exit code 3")
    sys.exit(3)
print("about to fail")
raise ValueError(f"no data in {os.getcwd()}")
