"""Files adwatch creates for the analyst: private to the owner and group by default.

The store, its lock, exports and reports hold unpublished analysis, so a file adwatch
creates gets PRIVATE_MODE, narrowed further by the user's umask (the kernel applies
it): read and write for the owner and the group, nothing for anyone else. A file that
already exists keeps the permissions it has; see docs/privacy.md.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_MODE = 0o660


def create_private(path: Path) -> bool:
    """Create `path` as an empty private file; return False when it already existed.

    An existing file is left exactly as it is, permissions included.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def open_private_temp(folder: Path, name: str) -> tuple[int, Path]:
    """Open a new private file `.NAME.RANDOM.part` in `folder` for writing; return fd and path."""
    for _attempt in range(100):
        temp = folder / f".{name}.{os.urandom(4).hex()}.part"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_MODE)
        except FileExistsError:
            continue
        return fd, temp
    raise FileExistsError(f"no free temporary name for {name!r} in {str(folder)!r}")
