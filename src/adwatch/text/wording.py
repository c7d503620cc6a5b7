"""English words of adwatch's own messages."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """`number` and `noun`, plural unless it is one: "1 hit", "3 hits"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
