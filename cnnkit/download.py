"""Downloads checked against a pinned hash, and files written all at once or not at all.

``atomic_file`` writes to a temporary file beside the target and renames it into place only
on success; ``download`` streams a URL through it and checks a hash before the rename. The
data fetchers (``fetch_mnist``, ``fetch_cifar10``) use both, so an interrupted or corrupted
download never leaves a file that a loader could mistake for data.
"""

import contextlib
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO


class ChecksumError(Exception):
    """A downloaded file's hash differs from the pinned one."""


@contextlib.contextmanager
def atomic_file(target: str | os.PathLike) -> Iterator[BinaryIO]:
    """Write to a temporary file beside ``target``; rename it to ``target`` only on success.

    On any exception, Ctrl-C included, the temporary file is deleted and ``target`` is left
    as it was. The file gets the usual permissions (0666 less the umask).

    Parameters
    ----------
    target : str or path-like
        The file to write; its folder must exist.

    Yields
    ------
    file object
        A binary file open for writing.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_file(folder / "hello.txt") as f:
    ...     _ = f.write(b"hello")
    >>> (folder / "hello.txt").read_bytes(), len(list(folder.iterdir()))
    (b'hello', 1)
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file, read in 1 MiB blocks.

    Parameters
    ----------
    path : str or path-like
        The file.
    algorithm : str, default="sha256"
        A name from :data:`hashlib.algorithms_guaranteed`, such as ``"sha256"`` or ``"md5"``.

    Returns
    -------
    str
        The lower-case hex digest.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "empty"
    >>> path.write_bytes(b"")
    0
    >>> file_digest(path, "md5")
    'd41d8cd98f00b204e9800998ecf8427e'
    """
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    urls: Sequence[str],
    target: str | os.PathLike,
    expected: str,
    *,
    algorithm: str = "sha256",
    progress: bool = True,
) -> Path:
    """Download a file, trying each URL in turn, and keep it only if its hash matches.

    A ``target`` that already exists with the expected hash is reused without a download.
    Otherwise the response is streamed into a temporary file beside ``target`` while its
    hash is computed; the file is renamed to ``target`` only if the transfer is complete
    and the hash matches. A failed, interrupted (Ctrl-C included) or wrong download leaves
    nothing behind.

    Parameters
    ----------
    urls : sequence of str
        Places to get the same file from (mirrors), tried in order. ``file://`` URLs work.
    target : str or path-like
        The file to write; its folder must exist.
    expected : str
        The published hex digest of the file.
    algorithm : str, default="sha256"
        The hash ``expected`` was made with, such as ``"sha256"`` or ``"md5"``.
    progress : bool, default=True
        Show download progress on standard error.

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    OSError
        If no URL gave the complete file with the expected hash; the message lists what
        each URL answered.

    Examples
    --------
    With a network connection::

        download(["https://example.org/f.gz"], "data/f.gz", "<sha256 hex>")
    """
    target = Path(target)
    if target.is_file() and file_digest(target, algorithm) == expected:
        return target
    failures = []
    for url in urls:
        try:
            with atomic_file(target) as f, urllib.request.urlopen(url, timeout=60) as response:
                digest = hashlib.new(algorithm)
                total = int(response.headers.get("Content-Length") or 0)
                done, shown = 0, ""
                while chunk := response.read(1 << 16):
                    f.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    share = f"{100 * done / total:3.0f}%" if total else f"{done >> 20:,} MiB"
                    if progress and share != shown:  # one line update per percent or MiB
                        sys.stderr.write(f"\rdownloading {target.name} from {url}: {share}")
                        shown = share
                if progress:
                    sys.stderr.write("\n")
                if total and done != total:
                    raise ChecksumError(f"the connection closed after {done:,} of {total:,} bytes")
                if digest.hexdigest() != expected:
                    raise ChecksumError(f"{algorithm} {digest.hexdigest()}, expected {expected}")
            return target
        except (OSError, http.client.HTTPException, ChecksumError) as exc:
            failures.append(f"{url}: {exc}")
    raise OSError(
        f"Could not download {target.name} with the right checksum from any of {len(urls)} "
        "URL(s):\n  " + "\n  ".join(failures)
    )
