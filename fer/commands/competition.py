"""python -m fer competition open|list|submit|reveal|export: the teacher's tools for a class competition.

The command line acts as the teacher of the server whose data folder it uses (FER_DATA_DIR):
it opens competitions, submits for a named student, reveals the private board and exports
both boards as CSV for grading.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from fer.i18n import _

# The same names as fer.evaluate.TTA_MODES (tests keep them equal); here so `--help` loads no TensorFlow.
TTA_CHOICES = ("none", "flip", "crops", "flip+crops", "ten-crop")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "competition", help=_("a class competition: public board now, private at the end")
    )
    actions = parser.add_subparsers(dest="competition_command", required=True)

    opening = actions.add_parser("open", help=_("open a competition on a data set"))
    opening.add_argument("name", help=_("the competition's name, e.g. fer-2026"))
    opening.add_argument("--data", required=True, help=_("data set name (python -m fer data list)"))
    opening.add_argument(
        "--halve", metavar="SPLIT",
        help=_(
            "cut this split in two at random (public and private halves) instead of FER2013's PublicTest and "
            "PrivateTest, e.g. test for a test set imported as a data set of its own"
        ),
    )
    opening.add_argument("--seed", type=int, default=0, help=_("the halving's seed (default 0)"))
    when = opening.add_mutually_exclusive_group(required=True)
    when.add_argument("--deadline", help=_('local time, "YYYY-MM-DD HH:MM"'))
    when.add_argument("--days", type=float, help=_("the deadline this many days from now"))
    opening.add_argument("--per-day", type=int, default=5, help=_("submissions per student per day (default 5)"))
    opening.add_argument(
        "--no-reference", action="store_true", help=_("do not score the shipped model for the board")
    )
    opening.set_defaults(func=open_command)

    listing = actions.add_parser("list", help=_("the competitions, or one competition's boards"))
    listing.add_argument("name", nargs="?", help=_("show this competition's boards"))
    listing.set_defaults(func=list_command)

    submitting = actions.add_parser("submit", help=_("score a run or ensemble for a student"))
    submitting.add_argument("name", help=_("the competition"))
    submitting.add_argument("--run", required=True, help=_("registry run or ensemble (python -m fer models)"))
    submitting.add_argument("--tta", default="none", choices=TTA_CHOICES, help=_("test-time augmentation"))
    submitting.add_argument("--student", default="command line", help=_("whose submission it is on the board"))
    submitting.set_defaults(func=submit_command)

    revealing = actions.add_parser("reveal", help=_("show the private board to everyone now"))
    revealing.add_argument("name", help=_("the competition"))
    revealing.set_defaults(func=reveal_command)

    exporting = actions.add_parser("export", help=_("both boards as CSV, one row per student"))
    exporting.add_argument("name", help=_("the competition"))
    exporting.add_argument("--out", help=_("write to this file (default: print)"))
    exporting.set_defaults(func=export_command)


def _deadline(args) -> datetime:
    from fer.competition import CompetitionError

    if args.days is not None:
        return datetime.now().astimezone() + timedelta(days=args.days)
    try:
        return datetime.strptime(args.deadline.strip(), "%Y-%m-%d %H:%M").astimezone()
    except ValueError:
        raise CompetitionError(
            _('--deadline {value} is not "YYYY-MM-DD HH:MM" (local time).').format(value=repr(args.deadline))
        ) from None


def open_command(args) -> int:
    from fer import competition

    opened = competition.open_competition(
        args.name, args.data, by=competition.COMMAND_LINE, deadline=_deadline(args), daily_limit=args.per_day,
        halve=args.halve, seed=args.seed, reference_model=None if args.no_reference else "shipped",
    )
    print(_("Opened {name}: {halves}.").format(name=opened.name, halves=opened.describe_halves()))
    print(_("Deadline {deadline}; {limit} submissions per student per day.").format(
        deadline=competition.format_moment(opened.deadline, "%a %d %b %Y %H:%M %Z", "long"),
        limit=opened.daily_limit,
    ))
    return 0


def list_command(args) -> int:
    from fer import competition

    if args.name:
        print_boards(competition.boards(args.name))
        return 0
    competitions = competition.list_competitions()
    if not competitions:
        print(_("No competition yet: python -m fer competition open NAME --data DATASET --days 14"))
    for item in competitions:
        state = _("revealed") if item.is_revealed() else _("open")
        deadline = _("deadline {moment}").format(moment=f"{item.deadline:%Y-%m-%d %H:%M}")
        per_day = _("{count}/day").format(count=item.daily_limit)
        print(f"{item.name}\t{item.dataset}\t{state}\t{deadline}\t{per_day}\t{item.describe_halves()}")
    return 0


def public_half(halves) -> str:
    """The public faces' name: "PublicTest", or "test (public half)" for a halving."""
    return _("{split} (public half)").format(split=halves.public_split) if halves.halved else halves.public_split


def print_boards(boards) -> None:
    from fer.evaluate import pad_columns as pad

    split = boards.competition.halves
    print(_("Public board of {name}, scored on {split}:").format(
        name=boards.competition.name, split=public_half(split)))
    print(pad(_("rank"), 4) + "  " + pad(_("student"), 24, right=False) + pad(_("best"), 8) + pad(_("entries"), 9))
    for entry in boards.public:
        print(f"{entry.rank:>4}  " + pad(entry.student, 24, right=False) + f"{entry.best_score:>8.4f}"
              f"{entry.submissions:>9}")
    if boards.private is None:
        print(_("The private board stays hidden until the teacher reveals it or the deadline passes."))
        return
    private_name = (
        _("{split} (private half)").format(split=split.private_split) if split.halved else split.private_split
    )
    print()
    print(_("Private board, scored on {split} (each student's best public submission):").format(split=private_name))
    print(pad(_("rank"), 4) + "  " + pad(_("student"), 24, right=False) + pad(_("score"), 8)
          + pad(_("public rank"), 13) + pad(_("moved"), 7))
    for entry in boards.private:
        print(f"{entry.rank:>4}  " + pad(entry.student, 24, right=False) + f"{entry.score:>8.4f}"
              f"{entry.public_rank:>13}{entry.rank_change:>+7}")


def submit_command(args) -> int:
    from fer import competition

    student = competition.Person(args.student, is_teacher=True)
    result = competition.submit(args.name, args.run, args.tta, by=student)
    board = competition.get_competition(args.name).halves
    print(_(
        "{run} (TTA {tta}) for {student}: public score {score} on {split}; "
        "{used} of {limit} submissions used today."
    ).format(
        run=result.run, tta=result.tta, student=args.student, score=f"{result.public_score:.4f}",
        split=public_half(board), used=result.used_today, limit=result.daily_limit,
    ))
    return 0


def reveal_command(args) -> int:
    from fer import competition

    competition.reveal(args.name, by=competition.COMMAND_LINE)
    print_boards(competition.boards(args.name))
    return 0


def export_command(args) -> int:
    from fer import competition

    text = competition.export_csv(args.name)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        print(_("Wrote {path}").format(path=args.out), file=sys.stderr)
    else:
        print(text, end="")
    if not competition.boards(args.name).revealed:
        print(_("The private columns are empty: the private board is not revealed yet."), file=sys.stderr)
    return 0
