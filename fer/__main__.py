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


class HelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix=i18n._("usage: ") if prefix is None else prefix)


class RawDescriptionHelpFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


class Parser(argparse.ArgumentParser):
    """argparse in the reader's language: its headings, its -h and its error line (Python ships them in English)."""

    def __init__(self, *args, formatter_class=HelpFormatter, add_help=True, **kwargs):
        if formatter_class is argparse.RawDescriptionHelpFormatter:
            formatter_class = RawDescriptionHelpFormatter
        super().__init__(*args, formatter_class=formatter_class, add_help=False, **kwargs)
        self._positionals.title = i18n._("positional arguments")
        self._optionals.title = i18n._("options")
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help=i18n._("show this help message and exit"))

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, i18n._("{prog}: error: {message}").format(prog=self.prog, message=message) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m fer",
                    description=i18n._("Command line: python -m fer data|train|models|evaluate|export ..."))
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
