"""Command line: python -m fer data|train|models|evaluate|export ...

Each sub-command lives in fer/commands/<name>.py with a `register(subparsers)` function and
imports TensorFlow only when it runs, so `python -m fer --help` stays instant. Sentences come
out in the terminal's language (LANGUAGE, LC_ALL, LC_MESSAGES, LANG: `LANG=zh_TW.UTF-8`).
"""

import argparse
import importlib
import sys

from fer import i18n

COMMAND_MODULES = ("data", "train", "evaluate", "export", "competition")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fer", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"fer.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    i18n.set_language(i18n.language_from_environment())
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as error:
        # Our errors (DataError, RegistryError, ...) are sentences meant for the person typing.
        print(i18n._("error: {sentence}").format(sentence=error), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
