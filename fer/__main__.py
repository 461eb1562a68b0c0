"""Command line: python -m fer data|train|models|evaluate|export ...

Each sub-command lives in fer/commands/<name>.py with a `register(subparsers)` function and
imports TensorFlow only when it runs, so `python -m fer --help` stays instant.
"""

import argparse
import importlib
import sys

COMMAND_MODULES = ("data", "train", "evaluate", "export")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fer", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"fer.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as error:
        # Our errors (DataError, RegistryError, ...) are sentences meant for the person typing.
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
