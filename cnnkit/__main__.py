"""Command line: ``python -m cnnkit`` fetch-mnist, fetch-fashion-mnist, fetch-cifar10, idx-to-csv,
idx-dir-to-csv."""

import argparse
import logging
import sys
from pathlib import Path

from cnnkit import data

DATA_HOME_HELP = (
    "the data home (default: $CNNKIT_DATA_HOME, else the data/ folder of the repository)"
)


def main(argv: list[str] | None = None) -> int:
    """Run the cnnkit command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m cnnkit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser("fetch-mnist", help="download the full MNIST and convert to CSV")
    fetch.add_argument(
        "--directory", type=Path, help="output folder (default: mnist/ in the data home)"
    )
    fetch.add_argument("--data-home", type=Path, help=DATA_HOME_HELP)

    fashion = commands.add_parser(
        "fetch-fashion-mnist", help="download Fashion-MNIST and convert to CSV (MD5-checked)"
    )
    fashion.add_argument(
        "--directory", type=Path, help="output folder (default: fashion-mnist/ in the data home)"
    )
    fashion.add_argument("--data-home", type=Path, help=DATA_HOME_HELP)

    cifar = commands.add_parser(
        "fetch-cifar10", help="download the full CIFAR-10 (binary version, 170 MB, MD5-checked)"
    )
    cifar.add_argument("--data-home", type=Path, help=DATA_HOME_HELP)
    cifar.add_argument(
        "--url",
        default=data.CIFAR10_URL,
        help="where to get cifar-10-binary.tar.gz (file:// works)",
    )

    one = commands.add_parser("idx-to-csv", help="convert one IDX images/labels pair to CSV")
    one.add_argument("images", type=Path, help="IDX images file (.gz or plain)")
    one.add_argument("labels", type=Path, help="IDX labels file (.gz or plain)")
    one.add_argument("out_csv", type=Path, help="CSV file to write (.csv or .csv.gz)")

    folder = commands.add_parser(
        "idx-dir-to-csv", help="convert a folder of the four IDX files to train.csv and test.csv"
    )
    folder.add_argument("source", type=Path, help="e.g. /usr/share/datasets/fashion-mnist")
    folder.add_argument("directory", type=Path, help="output folder, e.g. data/fashion-mnist")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.command == "fetch-mnist":
            out = data.fetch_mnist(args.directory, data_home=args.data_home)
        elif args.command == "fetch-fashion-mnist":
            out = data.fetch_fashion_mnist(args.directory, data_home=args.data_home)
        elif args.command == "fetch-cifar10":
            out = data.fetch_cifar10(data_home=args.data_home, url=args.url)
        elif args.command == "idx-to-csv":
            out = data.idx_to_csv(args.images, args.labels, args.out_csv)
        else:
            out = data.idx_dir_to_csv(args.source, args.directory)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"done: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
