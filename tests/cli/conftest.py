"""The command's tests share the batch tests' helpers (``batch_fakes``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "batch"))
