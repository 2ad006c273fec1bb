"""Rebuild the bundled CIFAR-10 sample (data/cifar10_sample/) from CIFAR-10 record files.

The sample is the first 932 images of each of the official training batches 1-4 and the
first 846 images of the official test batch, in the official binary record layout (3,073
bytes per image), gzip-compressed with a zero timestamp so that the checksums in
data/README.md are reproducible. The source folder holds either the full official files
(``cifar-10-batches-bin/`` from cifar-10-binary.tar.gz, or ``data/cifar10/`` after
``python -m cnnkit fetch-cifar10``) or an uncompressed copy of the sample itself; the first
records are taken in both cases and checked against the pinned sha256 of the sample.

Usage::

    python data/make_cifar10_sample.py data/cifar10
"""

import gzip
import hashlib
import sys
from pathlib import Path

RECORD_BYTES = 3073
# file -> (records kept, sha256 of those records, uncompressed)
SAMPLE = {
    "data_batch_1.bin": (932, "b0f27afee5ca668579a2e93ee3681e063ff732dc2df61078190ed27754426fbb"),
    "data_batch_2.bin": (932, "d8be2e394f486275122ee559eafeb27c7b361cd515e8b22af157135d0c8bdcb1"),
    "data_batch_3.bin": (932, "ff9dc9eb2d46ee4901a27a6a8bb2eb17e81a34f029c976d4731066200935a780"),
    "data_batch_4.bin": (932, "9a0ce4a95c35e50eb9c7dbf3066b5edec5f9c1f0c409be6168393b488b7944e7"),
    "test_batch.bin": (846, "7a6b65454614904e75805388c6c869be5921ba19464232b1d871dc44f4d54402"),
}


def main(source: str) -> None:
    out = Path(__file__).parent / "cifar10_sample"
    out.mkdir(exist_ok=True)
    for name, (n_records, sha256) in SAMPLE.items():
        with open(Path(source) / name, "rb") as f:
            records = f.read(n_records * RECORD_BYTES)
        digest = hashlib.sha256(records).hexdigest()
        if digest != sha256:
            sys.exit(
                f"{source}/{name}: first {n_records} records have sha256 {digest}, "
                f"expected {sha256}"
            )
        # mtime=0 and no file name keep the gzip bytes (and so the sha256) reproducible.
        with open(out / f"{name}.gz", "wb") as raw_file:
            with gzip.GzipFile(fileobj=raw_file, mode="wb", mtime=0, filename="") as f:
                f.write(records)
        gz_sha256 = hashlib.sha256((out / f"{name}.gz").read_bytes()).hexdigest()
        print(f"{name}.gz: {n_records} records, sha256 {gz_sha256}")


if __name__ == "__main__":
    main(sys.argv[1])
