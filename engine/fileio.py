"""Output files: atomic writes, standard output, and the checks made before any work.

Output files are written to a temporary name and renamed, so none is ever left half-written;
`-` means standard output; an output is refused up front when it is an input, another output,
empty, a directory or not writable. Every layer that writes a file uses these functions.
"""
from __future__ import annotations

import errno
import io
import os
import stat
import sys
import tempfile
from pathlib import Path

from salvosim.engine.errors import UsageError

STDOUT = "-"


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write a file by temporary name + rename so that no partial file is ever left.

    `-` is standard output. A symlink is followed (the file it points to is replaced, the link
    kept); a path that is not a regular file (a terminal, a pipe, /dev/stdout, /dev/null) is
    written through, never replaced; a directory is refused."""
    if is_stdout(path):
        _write_stdout(data)
        return
    mode = _existing_mode(path)
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"{path}: is a directory; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        with _open_through(path, mode, isinstance(data, bytes)) as fh:     # device, pipe
            fh.write(data)
        return
    path = Path(path)
    if path.is_symlink():                 # replace the file it points to, keep the link
        path = Path(os.path.realpath(path))
    if path.parent and not path.parent.exists():
        raise UsageError(f"{path}: directory {path.parent} does not exist")
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), dir=path.parent or ".")
    try:
        with os.fdopen(fd, mode) as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _open_through(path, mode: int, binary: bool):
    """A device or pipe opened for writing. A named pipe no process reads would block the
    open forever: it is opened without blocking, and with no reader that is an OSError
    (ENXIO) the caller reports (Outputs: one line, the data kept in a temporary file)."""
    if not stat.S_ISFIFO(mode):
        return open(path, "wb" if binary else "w")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OSError(errno.ENXIO, "a named pipe no process is reading") from None
        raise
    os.set_blocking(fd, True)
    return os.fdopen(fd, "wb" if binary else "w")


def _cut_utf8(text: str, max_bytes: int, keep_end: bool = False) -> str:
    """text cut to at most max_bytes of UTF-8 (its start, or its end), never inside a
    character."""
    data = text.encode("utf-8", "surrogateescape")
    data = data[-max_bytes:] if keep_end else data[:max_bytes]
    return data.decode("utf-8", "ignore")


def _temp_prefix(path: Path) -> str:
    """The temporary name's prefix beside an output: '.<name>.' with the name cut to 64 bytes
    (an output name near the file-system limit of 255 bytes is allowed, but the temporary name
    is longer: the write failed after the work)."""
    return f".{_cut_utf8(path.name, 64)}."


def is_stdout(path) -> bool:
    """`-`, or a name of this process's standard output (/dev/stdout, /proc/self/fd/1, even
    when standard output is a regular file: it must be written to, not replaced)."""
    if path is None:
        return False
    if str(path) == STDOUT:
        return True
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False


def _existing_mode(path) -> int | None:
    """st_mode of what `path` names (symlinks followed), None if nothing is there."""
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None


def _write_stdout(data: bytes | str) -> None:
    sys.stdout.flush()
    if isinstance(data, bytes):
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            raise UsageError("standard output does not take binary data here; give a file name")
        buffer.write(data)
        buffer.flush()
    else:
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
        sys.stdout.flush()


# ----------------------------------------------------------------------------------------
# Outputs: checked before any work, written at the end; a late failure is one line
def same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs: list[tuple[str, str | None]], inputs: list[str] = ()) -> None:
    """Refuse, before any work: an empty path, two outputs to standard output, an output that
    is an input file or another output, a directory, or a place that cannot be written.

    outputs: (option, path) pairs, path None when the option was not given."""
    given = [(opt, path) for opt, path in outputs if path is not None]
    for opt, path in given:
        if not path.strip():
            raise UsageError(f"{opt}: empty path; give a file name, or - for standard output")
    to_stdout = [opt for opt, path in given if is_stdout(path)]
    if len(to_stdout) > 1:
        raise UsageError(f"{' and '.join(to_stdout)} both write to standard output (-); give "
                         f"all but one of them a file name")
    files = [(opt, path) for opt, path in given if not is_stdout(path)]
    for opt, path in files:
        for source in inputs:
            if same_file(path, source):
                raise UsageError(f"{opt} {path!r} is the input file {source!r}: refusing to "
                                 f"overwrite it; give another output name")
    for i, (opt, path) in enumerate(files):
        for opt2, path2 in files[i + 1:]:
            if same_file(path, path2):
                raise UsageError(f"{opt} and {opt2} both name {path!r}; give them different "
                                 f"files")
    for opt, path in files:
        check_writable(path, opt)


def check_writable(path: str, option: str) -> None:
    """The output can be written: not a directory, its directory exists and takes new files
    (probed with a temporary file); a device or pipe (e.g. /dev/stdout) is written through (a
    named pipe is not opened here: a probe would end its reader's input; write_atomic does not
    wait for a reader)."""
    try:
        mode = _existing_mode(path)
    except OSError as exc:
        raise UsageError(f"{option} {path!r}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"{option} {path!r}: is a directory; give a file name")
    if mode is not None and not stat.S_ISREG(mode):      # a device or pipe: written through
        if not os.access(path, os.W_OK):
            raise UsageError(f"{option} {path!r}: cannot be written (permission denied)")
        return
    p = Path(os.path.realpath(path))
    parent = p.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path!r}: directory {str(parent)!r} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=_temp_prefix(p), dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(f"{option} {path!r}: cannot write in {str(parent)!r}: "
                         f"{exc.strerror or exc}") from None


class Outputs:
    """Writes the outputs of a command; a failure (disk full, directory gone) does not lose
    the others: each is tried, a failed one is written to a file in the temporary directory
    instead if possible, and `finish()` reports every failure in one line."""

    def __init__(self, say):
        self.say = say
        self.failed: list[str] = []

    def write(self, option: str, path: str, data: bytes | str) -> bool:
        try:
            write_atomic(path, data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            why = exc.strerror or str(exc)
            kept = _fallback(path, data)
            self.failed.append(f"{option} {path!r}: {why}"
                               + (f" (written to {kept!r} instead)" if kept else ""))
            return False
        if not is_stdout(path):
            self.say(f"wrote {path}")
        return True

    def finish(self) -> None:
        if self.failed:
            raise UsageError("could not write " + "; ".join(self.failed)
                             + " — the results above were computed")


def _fallback(path: str, data: bytes | str) -> str | None:
    """Write `data` to a new file in the temporary directory; its name, or None."""
    try:
        fd, tmp = tempfile.mkstemp(prefix="salvosim-",
                                   suffix=f"-{_cut_utf8(Path(path).name, 64, keep_end=True)}")
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as fh:
            fh.write(data)
        return tmp
    except OSError:
        return None


def say_stream(*paths) -> object:
    """Where the human-readable text goes: stderr when an output is standard output."""
    return sys.stderr if any(is_stdout(p) for p in paths) else sys.stdout


def sayer(stream):
    """say(line): a line of text for people on `stream`. If its reader has gone (a pipe into
    `head`), the text is dropped from then on and the command goes on: the files it was asked
    to write are still written (a BrokenPipeError here used to end it, with status 0)."""
    def say(line: str = "") -> None:
        try:
            print(line, file=stream, flush=True)
        except BrokenPipeError:
            silence(stream)
    return say


def silence(stream) -> None:
    """Send what is still buffered for `stream`, and everything written to it later, to the
    null device (its file descriptor is replaced; the stream object stays valid)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


