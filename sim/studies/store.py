"""The result store shared by scenario runs and sweeps: one file per finished run, written so
that a file is either whole or absent, and a results folder claimed by one process at a time.

- `atomic_write` / `atomic_parquet`: write to a hidden temporary name, fsync, rename, fsync the
  folder. A crash (even `kill -9` or a power cut after the rename) leaves the old file or the
  new one, never half of one.
- `finished_runs`: the run ids of a `runs/` folder; a file that cannot be read (zero bytes,
  truncated by a dying disk) is moved to `runs/damaged/` with a warning and counts as missing,
  so the run is simply run again. The damaged copy is kept while it is the only trace of that
  run and deleted once the run is stored again (same seed, so the same data): a folder never
  grows with copies nobody needs, and `damaged/` disappears when it is empty.
- `Claim`: an exclusive lock (`flock`) on `FOLDER/.lock`, held for as long as a process writes
  into the folder and released by the kernel when the process dies, so a folder is never
  written by two runs at once and a dead run's folder can always be resumed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

LOCK = ".lock"
DAMAGED = "damaged"
RUN_FILE = re.compile(r"^run=(\d{6,})\.parquet$")
_OLD_ASIDE = re.compile(r"^\.unreadable-(run=\d{6,}\.parquet)$")  # set aside by earlier versions
_TEMPORARY = re.compile(r"^\..*\.tmp-(\d+)$")


class FolderError(ValueError):
    """A results folder cannot be used for this run (one-line message)."""


class StoreWarning(UserWarning):
    """A stored file was unreadable and will be made again."""


def run_file_name(run: int) -> str:
    return f"run={run:06d}.parquet"


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _fsync_folder(folder: Path) -> None:
    # The rename itself is only durable once the folder's entry is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit(tmp: Path, path: Path) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_folder(path.parent)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all."""
    tmp = _temporary(path)
    try:
        tmp.write_bytes(data)
        _commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_parquet(path: Path, table: pa.Table) -> None:
    """Write a Parquet file whole or not at all; a damaged copy of it set aside by
    `finished_runs` is deleted once the new file is in place."""
    tmp = _temporary(path)
    try:
        pq.write_table(table, tmp, compression="zstd")
        _commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    damaged = path.parent / DAMAGED
    if damaged.is_dir():
        (damaged / path.name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            damaged.rmdir()  # only once empty


def atomic_json(path: Path, data: Any, default: Any = None) -> None:
    atomic_write(path, (json.dumps(data, indent=1, default=default) + "\n").encode())


def alive(pid: int) -> bool:
    """Whether another process with this id runs (our own id counts as not running)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(*folders: Path) -> None:
    """Delete half-written files left by processes that no longer run."""
    for folder in folders:
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            m = _TEMPORARY.match(entry.name)
            if m and not alive(int(m.group(1))):
                Path(entry.path).unlink(missing_ok=True)


def readable(path: Path) -> bool:
    """Whether a Parquet file's footer and schema can be read."""
    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException, ValueError):
        return False
    return True


def finished_runs(runs_dir: Path, *, check: bool = False,
                  companions: Sequence[Path] = ()) -> set[int]:
    """Ids of the run files in `runs_dir`. With `check`, a run counts only if its run file and
    its file of the same name in each of the `companions` folders (written before the run file)
    can be read: an unreadable file is moved to its folder's `damaged/` with one StoreWarning,
    and the run is made again whole."""
    found: set[int] = set()
    if not runs_dir.is_dir():
        return found
    for entry in os.scandir(runs_dir):
        m = RUN_FILE.match(entry.name)
        if check and not m and (old := _OLD_ASIDE.match(entry.name)):
            _adopt(Path(entry.path), runs_dir / old.group(1))
        if not m:
            continue
        path = Path(entry.path)
        if check and not readable(path):
            _set_aside(path)
            continue
        if check and not _companions_readable(path, companions):
            path.unlink(missing_ok=True)  # made again together with its companion files
            continue
        found.add(int(m.group(1)))
    return found


def _companions_readable(path: Path, companions: Sequence[Path]) -> bool:
    whole = True
    for folder in companions:
        companion = folder / path.name
        if not companion.exists():
            warnings.warn(f"{companion}: missing although {path} is stored; the run will be "
                          "made again", StoreWarning, stacklevel=4)
            whole = False
        elif not readable(companion):
            _set_aside(companion)
            whole = False
    return whole


def _adopt(aside: Path, path: Path) -> None:
    """Give a copy set aside by an earlier version the same policy: gone if its run is
    stored again, else kept in damaged/ (unless a newer copy is there)."""
    damaged = path.parent / DAMAGED / path.name
    with contextlib.suppress(OSError):
        if path.exists() or damaged.exists():
            aside.unlink()
        else:
            damaged.parent.mkdir(exist_ok=True)
            os.replace(aside, damaged)


def _set_aside(path: Path) -> None:
    damaged = path.parent / DAMAGED
    warnings.warn(f"{path}: cannot be read (empty or damaged); the run will be made again "
                  f"(the file is kept in {damaged}/ until it is)", StoreWarning, stacklevel=3)
    with contextlib.suppress(OSError):  # if it cannot be moved, the new file replaces it
        damaged.mkdir(exist_ok=True)
        os.replace(path, damaged / path.name)  # one copy per run: an older one is replaced


class Claim:
    """Exclusive use of a results folder by this process (see the module docstring)."""

    def __init__(self, folder: Path, fd: int, created: bool):
        self.folder, self._fd, self.created = folder, fd, created

    @classmethod
    def take(cls, folder: Path, *, option: str = "--out") -> Claim:
        """Create (or open) `folder` and lock it; raise FolderError if it is a symbolic link,
        not a folder, or in use by another process."""
        folder = Path(folder)
        name = _named(option, folder)
        if folder.is_symlink():
            raise FolderError(f"{name}: is a symbolic link; allowed: a real folder "
                              "(results are written where they are named)")
        created = False
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(folder)
            created = True
        except FileExistsError:
            if not folder.is_dir() or folder.is_symlink():
                raise FolderError(f"{name}: exists and is not a folder; allowed: a "
                                  "new folder") from None
        except OSError as err:
            raise FolderError(f"{name}: cannot be created ({err.strerror or err}); "
                              "allowed: a folder you can write to") from None
        return cls(folder, _lock(folder, option), created)

    @classmethod
    def new(cls, root: Path, stem: str) -> Claim:
        """Claim the first of root/stem, root/stem-2, ... that does not exist yet (mkdir is
        atomic, so two runs started at the same moment get two folders)."""
        Path(root).mkdir(parents=True, exist_ok=True)
        for folder in unique_folder(Path(root), stem):
            try:
                os.mkdir(folder)
            except FileExistsError:
                continue
            return cls(folder, _lock(folder, "--out"), True)
        raise AssertionError("unreachable")

    def release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                (self.folder / LOCK).unlink()
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _named(option: str, folder: Path) -> str:
    return f"{option} {folder}" if option else str(folder)


def _lock(folder: Path, option: str) -> int:
    path = folder / LOCK
    while True:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(path, flags, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise FolderError(f"{_named(option, folder)}: is being written by another "
                                  "loyalty-sim process; allowed: another folder, or wait for it to "
                                  "finish") from None
            raise
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a lock file its last holder unlinked while we opened it
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def unique_folder(root: Path, stem: str) -> Iterator[Path]:
    """Candidate folders root/stem, root/stem-2, ... (the caller claims the first free one)."""
    yield root / stem
    n = 2
    while True:
        yield root / f"{stem}-{n}"
        n += 1
