from __future__ import annotations

from adwatch.cli import main

main()
