"""``python3 -m sagebox.analysis.clarify``: the ENTRYPOINT of the sagemaker-clarify-processing image."""

from __future__ import annotations

import sys

from sagebox.analysis.clarify.job import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
