"""python -m fer data import PATH | list | info NAME | delete NAME: bring FER2013 in, see it, clear it out."""

from __future__ import annotations

import sys
import unicodedata

from fer.i18n import _, format_decimal, format_percent


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help=_("import FER2013 and list the data sets the app can use"))
    actions = parser.add_subparsers(dest="data_command", required=True)

    importing = actions.add_parser(
        "import",
        help=_("convert fer2013.csv, the train/ and test/ image folders, an .npz or a .zip of them into the cache"),
    )
    importing.add_argument("path", help=_("a file (.csv, .zip, .npz) or a folder"))
    importing.add_argument("--name", help=_("the data set's name in the app (default: the file name, e.g. fer2013)"))
    importing.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help=_("leave out bad rows or unreadable images and report them, instead of stopping at the first"),
    )
    importing.set_defaults(func=import_command)

    listing = actions.add_parser("list", help=_("the data sets the app can use"))
    listing.set_defaults(func=list_command)

    info = actions.add_parser("info", help=_("faces per class in each split of one data set"))
    info.add_argument("name")
    info.set_defaults(func=info_command)

    deleting = actions.add_parser("delete", help=_("remove an imported data set (the runs trained on it stay)"))
    deleting.add_argument("name")
    deleting.set_defaults(func=delete_command)


def import_command(args) -> int:
    from fer import importers

    def progress(fraction: float, message: str) -> None:
        shown = _("{message} ({fraction})").format(message=message, fraction=format_percent(fraction))
        print(f"\r{shown}", end="", file=sys.stderr, flush=True)

    try:
        report = importers.import_path(args.path, name=args.name, skip_bad_rows=args.skip_bad_rows, progress=progress)
    finally:
        print(file=sys.stderr)
    print(report)
    return 0


def list_command(args) -> int:
    from fer import data

    for name in data.available_datasets():
        if name == data.SYNTHETIC:
            print(f"{name}\t" + _("(built in: drawn faces, not photographs)"))
        else:
            path = data.cache_path(name)
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue  # deleted since the listing
            print(f"{name}\t{path}\t" + _("{count} MB").format(count=format_decimal(size / 1e6, 1)))
    return 0


def delete_command(args) -> int:
    from fer import data

    data.delete_dataset(args.name)
    print(_("Deleted the data set {name} ({path}).").format(name=args.name, path=data.cache_path(args.name)))
    return 0


def info_command(args) -> int:
    from fer import data
    from fer.i18n import expression, format_integer

    dataset = data.load_dataset(args.name)
    print(dataset.describe())
    splits = dataset.split_names
    per_split = [dataset.class_counts(split) for split in splits]
    widths = [max(7, len(split)) for split in splits]
    names = [expression(emotion) for emotion in data.EMOTIONS]
    total = _("total")
    first = max(_columns(name) for name in [*names, total])

    def row(name: str, cells: list) -> str:
        padding = " " * (first - _columns(name))
        return f"{name}{padding}  " + "  ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths))

    print(row("", list(splits)))
    for index, name in enumerate(names):
        print(row(name, [format_integer(counts[index]) for counts in per_split]))
    print(row(total, [format_integer(counts.sum()) for counts in per_split]))
    for split in splits:
        label = data.shown_split_label(dataset.split_label(split))
        if label != split:
            print(_("{split}: {label}").format(split=split, label=label))
    return 0


def _columns(text: str) -> int:
    """How many terminal columns `text` takes: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)
