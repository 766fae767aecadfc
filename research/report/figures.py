"""matplotlib for files only: the one place the report selects the Agg backend (no display is
ever needed, and a headless machine has none). Figure modules take ``plt`` from here."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["plt"]
