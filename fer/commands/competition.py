"""python -m fer competition open|list|submit|reveal|export: the teacher's tools for a class competition.

The command line acts as the teacher of the server whose data folder it uses (FER_DATA_DIR):
it opens competitions, submits for a named student, reveals the private board and exports
both boards as CSV for grading.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

# The same names as fer.evaluate.TTA_MODES (tests keep them equal); here so `--help` loads no TensorFlow.
TTA_CHOICES = ("none", "flip", "crops", "flip+crops", "ten-crop")


def register(subparsers) -> None:
    parser = subparsers.add_parser("competition", help="a class competition: public board now, private at the end")
    actions = parser.add_subparsers(dest="competition_command", required=True)

    opening = actions.add_parser("open", help="open a competition on a data set")
    opening.add_argument("name", help="the competition's name, e.g. fer-2026")
    opening.add_argument("--data", required=True, help="data set name (python -m fer data list)")
    opening.add_argument(
        "--halve", metavar="SPLIT",
        help="cut this split in two at random (public and private halves) instead of FER2013's PublicTest and "
        "PrivateTest, e.g. test for a test set imported as a data set of its own",
    )
    opening.add_argument("--seed", type=int, default=0, help="the halving's seed (default 0)")
    when = opening.add_mutually_exclusive_group(required=True)
    when.add_argument("--deadline", help='local time, "YYYY-MM-DD HH:MM"')
    when.add_argument("--days", type=float, help="the deadline this many days from now")
    opening.add_argument("--per-day", type=int, default=5, help="submissions per student per day (default 5)")
    opening.add_argument("--no-reference", action="store_true", help="do not score the shipped model for the board")
    opening.set_defaults(func=open_command)

    listing = actions.add_parser("list", help="the competitions, or one competition's boards")
    listing.add_argument("name", nargs="?", help="show this competition's boards")
    listing.set_defaults(func=list_command)

    submitting = actions.add_parser("submit", help="score a run or ensemble for a student")
    submitting.add_argument("name", help="the competition")
    submitting.add_argument("--run", required=True, help="registry run or ensemble (python -m fer models)")
    submitting.add_argument("--tta", default="none", choices=TTA_CHOICES, help="test-time augmentation")
    submitting.add_argument("--student", default="command line", help="whose submission it is on the board")
    submitting.set_defaults(func=submit_command)

    revealing = actions.add_parser("reveal", help="show the private board to everyone now")
    revealing.add_argument("name")
    revealing.set_defaults(func=reveal_command)

    exporting = actions.add_parser("export", help="both boards as CSV, one row per student")
    exporting.add_argument("name")
    exporting.add_argument("--out", help="write to this file (default: print)")
    exporting.set_defaults(func=export_command)


def _deadline(args) -> datetime:
    from fer.competition import CompetitionError

    if args.days is not None:
        return datetime.now().astimezone() + timedelta(days=args.days)
    try:
        return datetime.strptime(args.deadline.strip(), "%Y-%m-%d %H:%M").astimezone()
    except ValueError:
        raise CompetitionError(f'--deadline {args.deadline!r} is not "YYYY-MM-DD HH:MM" (local time).') from None


def open_command(args) -> int:
    from fer import competition

    opened = competition.open_competition(
        args.name, args.data, by=competition.COMMAND_LINE, deadline=_deadline(args), daily_limit=args.per_day,
        halve=args.halve, seed=args.seed, reference_model=None if args.no_reference else "shipped",
    )
    print(f"Opened {opened.name}: {opened.describe_halves()}.")
    print(f"Deadline {opened.deadline:%a %d %b %Y %H:%M %Z}; {opened.daily_limit} submissions per student per day.")
    return 0


def list_command(args) -> int:
    from fer import competition

    if args.name:
        print_boards(competition.boards(args.name))
        return 0
    competitions = competition.list_competitions()
    if not competitions:
        print("No competition yet: python -m fer competition open NAME --data DATASET --days 14")
    for item in competitions:
        state = "revealed" if item.is_revealed() else "open"
        print(f"{item.name}\t{item.dataset}\t{state}\tdeadline {item.deadline:%Y-%m-%d %H:%M}\t"
              f"{item.daily_limit}/day\t{item.describe_halves()}")
    return 0


def print_boards(boards) -> None:
    split = boards.competition.halves
    public_name = f"{split.public_split} (public half)" if split.halved else split.public_split
    print(f"Public board of {boards.competition.name}, scored on {public_name}:")
    print(f"{'rank':>4}  {'student':<24}{'best':>8}{'entries':>9}")
    for entry in boards.public:
        print(f"{entry.rank:>4}  {entry.student:<24}{entry.best_score:>8.4f}{entry.submissions:>9}")
    if boards.private is None:
        print("The private board stays hidden until the teacher reveals it or the deadline passes.")
        return
    private_name = f"{split.private_split} (private half)" if split.halved else split.private_split
    print(f"\nPrivate board, scored on {private_name} (each student's best public submission):")
    print(f"{'rank':>4}  {'student':<24}{'score':>8}{'public rank':>13}{'moved':>7}")
    for entry in boards.private:
        print(f"{entry.rank:>4}  {entry.student:<24}{entry.score:>8.4f}{entry.public_rank:>13}{entry.rank_change:>+7}")


def submit_command(args) -> int:
    from fer import competition

    student = competition.Person(args.student, is_teacher=True)
    result = competition.submit(args.name, args.run, args.tta, by=student)
    board = competition.get_competition(args.name).halves
    public_name = f"{board.public_split} (public half)" if board.halved else board.public_split
    print(f"{result.run} (TTA {result.tta}) for {args.student}: public score {result.public_score:.4f} on "
          f"{public_name}; {result.used_today} of {result.daily_limit} submissions used today.")
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
        print(f"Wrote {args.out}", file=sys.stderr)
    else:
        print(text, end="")
    if not competition.boards(args.name).revealed:
        print("The private columns are empty: the private board is not revealed yet.", file=sys.stderr)
    return 0
