"""A class competition like the course's Kaggle in-class one: a public board now, the private one at the end.

The teacher opens a competition on a data set whose test faces are cut in two (FER2013's
PublicTest and PrivateTest, or a seeded halving of one split: see `fer.competition_scoring`),
with a deadline and a number of submissions per student per day. A student submits a run or
an ensemble with a test-time augmentation; the server scores it on both halves at once and
keeps both scores, but shows only the public one. The private board (each student's
submission with the best public score, ranked by its private score, and how far each student
moved: the shake-up) appears when the teacher reveals it or the deadline passes.

    competition.open_competition("fer-2026", "fer2013", by=teacher, deadline=friday, daily_limit=5)
    result = competition.submit("fer-2026", "my-cnn", "flip", by=student)   # result.public_score
    boards = competition.boards("fer-2026")   # boards.private is None until the reveal
    competition.reveal("fer-2026", by=teacher)

Nothing here hands out a private score or a private label before the reveal: `boards` leaves the
private board out, `submit` answers with the public score, and `hidden_splits` names the splits
pages must not show students meanwhile. Everything lives in `fer.competition_store`'s SQLite file.

`by` is anyone with a `name` and an `is_teacher` flag (`lessons._identity.User`, or `Person`).
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from fer import data
from fer.competition_scoring import Halves, Scores, fingerprint, scoring_faces
from fer.competition_store import Closed, CompetitionRow, CompetitionStore, LimitReached, SubmissionRow, default_path
from fer.face_dataset import PRIVATE_TEST, PUBLIC_TEST, FaceDataset
from fer.i18n import N_, SOURCE_LANGUAGE, _, current_language, format_datetime, format_integer

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
MAX_DAILY_LIMIT = 100
PRACTICE_DAYS, PRACTICE_DAILY_LIMIT = 7, 5
# The two reports' figures, drawn on every board: report A's validation accuracy, report B's public score.
REPORT_LINES = ((N_("report A (0.60 validation)"), 0.60), (N_("report B (0.65 public)"), 0.65))
REPORT, SHIPPED = "report", "shipped"  # the kinds of reference line

Loader = Callable[[str], FaceDataset]
Scorer = Callable[[str, FaceDataset, Halves, str], Scores]


class CompetitionError(ValueError):
    """Something a person can fix (a name, a deadline, a run, the daily limit); the message says how."""


@dataclass(frozen=True)
class Person:
    """Who acts, for callers without a signed-in user (the command line acts as the teacher)."""

    name: str
    is_teacher: bool = False


COMMAND_LINE = Person("command line", is_teacher=True)


@dataclass(frozen=True)
class Competition:
    """What anyone may know about a competition (no private score)."""

    name: str
    dataset: str
    halves: Halves
    public_faces: int
    private_faces: int
    deadline: datetime
    daily_limit: int
    opened_by: str
    opened_at: datetime
    revealed_at: datetime | None
    practice: bool

    def is_open(self, now: datetime | None = None) -> bool:
        return _now(now) < self.deadline

    def is_revealed(self, now: datetime | None = None) -> bool:
        """The private board is out: the teacher revealed it, or the deadline passed."""
        return self.revealed_at is not None or not self.is_open(now)

    def describe_halves(self) -> str:
        """Where the public and private faces come from, in the reader's language."""
        if self.halves.halved:
            return _(
                "{dataset}'s {split} faces cut in two at random (seed {seed}): {public} public, {private} private"
            ).format(
                dataset=self.dataset, split=self.halves.public_split, seed=self.halves.halving_seed,
                public=format_integer(self.public_faces), private=format_integer(self.private_faces),
            )
        return _(
            "{dataset}'s {public_split} ({public} faces) for the public board, "
            "{private_split} ({private}) for the private one"
        ).format(
            dataset=self.dataset, public_split=self.halves.public_split, public=format_integer(self.public_faces),
            private_split=self.halves.private_split, private=format_integer(self.private_faces),
        )


@dataclass(frozen=True)
class SubmissionResult:
    """What a student learns from a submission: its public score, and how many are left today."""

    competition: str
    run: str
    tta: str
    submitted_at: datetime
    public_score: float
    used_today: int
    daily_limit: int


@dataclass(frozen=True)
class PublicEntry:
    rank: int
    student: str
    best_score: float
    submissions: int
    best_at: datetime  # when the best one was submitted (the earlier wins a tie)


@dataclass(frozen=True)
class ScorePoint:
    student: str
    submitted_at: datetime
    public_score: float
    run: str
    tta: str


@dataclass(frozen=True)
class PrivateEntry:
    rank: int
    student: str
    score: float  # the private score of the student's submission with the best public score
    public_rank: int
    rank_change: int  # places moved up (negative: down) from the public board
    run: str
    tta: str


@dataclass(frozen=True)
class ReferenceLine:
    label: str  # in the language of whoever asked for the boards
    score: float
    kind: str = REPORT  # REPORT or SHIPPED


@dataclass(frozen=True)
class Boards:
    competition: Competition
    public: list[PublicEntry]
    history: list[ScorePoint]  # every public score, oldest first
    references: list[ReferenceLine]  # the reports' figures, and the shipped model's public score
    private: list[PrivateEntry] | None  # None until the reveal
    private_references: list[ReferenceLine] | None  # the shipped model's private score, after the reveal

    @property
    def revealed(self) -> bool:
        return self.private is not None


# ----------------------------------------------------------------------------- opening and listing


def open_competition(
    name: str,
    dataset: str,
    *,
    by,
    deadline: datetime,
    daily_limit: int = 5,
    halve: str | None = None,
    seed: int = 0,
    practice: bool = False,
    reference_model: str | None = "shipped",
    store: CompetitionStore | None = None,
    load: Loader = data.load_dataset,
    scorer: Scorer | None = None,
    now: datetime | None = None,
) -> Competition:
    """Open a competition on `dataset`: FER2013's PublicTest/PrivateTest, or `halve` (a split) cut in two.

    `reference_model` "shipped" scores the shipped model for the board's reference line (None: no line).
    """
    store = store or CompetitionStore.default()
    now = _now(now)
    _require_teacher(by, N_("Only the teacher may open a competition; you are signed in as {name}."))
    _check_name(name)
    deadline = _aware(deadline)
    if deadline <= now:
        raise CompetitionError(
            _("The deadline {deadline} has already passed: give one in the future.").format(deadline=_when(deadline))
        )
    if not isinstance(daily_limit, int) or not 1 <= daily_limit <= MAX_DAILY_LIMIT:
        raise CompetitionError(
            _("Submissions per student per day must be a whole number from 1 to {most}; got {value}.").format(
                most=MAX_DAILY_LIMIT, value=repr(daily_limit)
            )
        )
    faces = load(dataset)
    halves = _halves_for(faces, halve, seed, practice)
    (_public_images, public_labels), (_private_images, private_labels) = scoring_faces(faces, halves)
    reference = _reference_scores(reference_model, faces, halves, scorer)
    try:
        row = store.insert_competition(
            name=name,
            dataset=dataset,
            public_split=halves.public_split,
            private_split=halves.private_split,
            halving_seed=halves.halving_seed,
            public_faces=len(public_labels),
            private_faces=len(private_labels),
            fingerprint=fingerprint(faces, halves),
            deadline=deadline.timestamp(),
            daily_limit=daily_limit,
            opened_by=by.name,
            opened_at=now.timestamp(),
            practice=int(practice),
            reference_name=reference[0] if reference else None,
            reference_public=reference[1].public if reference else None,
            reference_private=reference[1].private if reference else None,
        )
    except sqlite3.IntegrityError:
        raise CompetitionError(
            _("There is already a competition called {name}: pick another name.").format(name=repr(name))
        ) from None
    return _public(row)


def open_practice(
    by, dataset: str, *, store: CompetitionStore | None = None, load: Loader = data.load_dataset,
    scorer: Scorer | None = None, now: datetime | None = None,
) -> Competition:
    """Laptop mode's practice round: PublicTest (else the test split) cut in two, a week, 5 a day."""
    now = _now(now)
    faces = load(dataset)
    split = PUBLIC_TEST if PUBLIC_TEST in faces.split_names else faces.test_split
    taken = {competition.name for competition in list_competitions(store)}
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"practice-{dataset}")[:50]
    name = next(candidate for number in range(1, 10_000)
                if (candidate := stem if number == 1 else f"{stem}-{number}") not in taken)
    return open_competition(
        name, dataset, by=by, deadline=now + timedelta(days=PRACTICE_DAYS), daily_limit=PRACTICE_DAILY_LIMIT,
        halve=split, seed=0, practice=True, store=store, load=lambda _: faces, scorer=scorer, now=now,
    )


def list_competitions(store: CompetitionStore | None = None) -> list[Competition]:
    """Newest first (none, and no file made, on a server that never opened one)."""
    if store is None and not default_path().exists():
        return []
    return [_public(row) for row in (store or CompetitionStore.default()).competitions()]


def get_competition(name: str, store: CompetitionStore | None = None) -> Competition:
    return _public(_row(name, store or CompetitionStore.default()))


def hidden_splits(dataset: str, store: CompetitionStore | None = None, now: datetime | None = None) -> set[str]:
    """Splits of `dataset` that hold private faces of a competition not revealed yet: keep them from students.

    FER2013's PrivateTest while a competition uses it; the whole halved split of a halving (its
    accuracy and the public score would give away the private one).
    """
    hidden = set()
    for competition in list_competitions(store):
        if competition.dataset == dataset and not competition.is_revealed(now):
            hidden.add(competition.halves.private_split)
    return hidden


# ----------------------------------------------------------------------------- submitting


def submit(
    name: str,
    run: str,
    tta: str = "none",
    *,
    by,
    store: CompetitionStore | None = None,
    load: Loader = data.load_dataset,
    scorer: Scorer | None = None,
    now: datetime | None = None,
) -> SubmissionResult:
    """Score `run` (a registry model or ensemble) with `tta` for `by`; counts against the day's limit."""
    from fer import evaluate

    store = store or CompetitionStore.default()
    now = _now(now)
    row = _row(name, store)
    competition = _public(row)
    if not competition.is_open(now):
        raise CompetitionError(_closed_sentence(competition))
    if tta not in evaluate.TTA_MODES:
        raise CompetitionError(
            _("Unknown test-time augmentation {tta}: use one of {modes}.").format(
                tta=repr(tta), modes=", ".join(evaluate.TTA_MODES)
            )
        )
    _check_run(run, by)
    faces = load(competition.dataset)
    if fingerprint(faces, competition.halves) != row.fingerprint:
        raise CompetitionError(
            _(
                "The data set {dataset} has changed since {name} opened (imported again?), so new scores would "
                "not compare with the old ones: ask the teacher to open a new competition."
            ).format(dataset=repr(competition.dataset), name=name)
        )
    day_start, day_end = _day_bounds(now)
    try:
        submission_id = store.reserve(row.id, by.name, run, tta, now.timestamp(), day_start, day_end)
    except LimitReached as reached:
        raise CompetitionError(_limit_sentence(competition, reached.used, reached.day_end, now)) from None
    except Closed:
        raise CompetitionError(_closed_sentence(competition)) from None
    try:
        scores = (scorer or _default_scorer)(run, faces, competition.halves, tta)
        run_version = evaluate.run_fingerprint(run)
    except BaseException:
        store.drop(submission_id)  # a submission that could not be scored does not count
        raise
    store.record_scores(submission_id, float(scores.public), float(scores.private), run_version)
    used = store.count_today(row.id, by.name, day_start, day_end, now.timestamp())
    return SubmissionResult(name, run, tta, now, float(scores.public), used, competition.daily_limit)


def submissions_left(name: str, student: str, store: CompetitionStore | None = None,
                     now: datetime | None = None) -> tuple[int, int, datetime]:
    """(used today, daily limit, when the next day's submissions open)."""
    store = store or CompetitionStore.default()
    now = _now(now)
    row = _row(name, store)
    day_start, day_end = _day_bounds(now)
    used = store.count_today(row.id, student, day_start, day_end, now.timestamp())
    return used, row.daily_limit, datetime.fromtimestamp(day_end, tz=now.tzinfo)


def reveal(name: str, *, by, store: CompetitionStore | None = None, now: datetime | None = None) -> Competition:
    """Show the private board to everyone now (the deadline does it by itself)."""
    store = store or CompetitionStore.default()
    _require_teacher(by, N_("Only the teacher may reveal the private board; you are signed in as {name}."))
    row = _row(name, store)
    store.set_revealed(row.id, _now(now).timestamp())
    return get_competition(name, store)


# ----------------------------------------------------------------------------- boards


def boards(name: str, store: CompetitionStore | None = None, now: datetime | None = None) -> Boards:
    """The public board, every public score over time, and the private board once revealed (else None)."""
    store = store or CompetitionStore.default()
    row = _row(name, store)
    competition = _public(row)
    submissions = store.scored_submissions(row.id)
    zone = _now(now).tzinfo
    history = [
        ScorePoint(s.student, datetime.fromtimestamp(s.submitted_at, tz=zone), s.public_score, s.run, s.tta)
        for s in submissions
    ]
    chosen = _best_public_by_student(submissions)
    public = [
        PublicEntry(rank, student, best.public_score, sum(1 for s in submissions if s.student == student),
                    datetime.fromtimestamp(best.submitted_at, tz=zone))
        for rank, (student, best) in enumerate(chosen, start=1)
    ]
    references = _report_lines()
    if row.reference_public is not None:
        references.append(_shipped_line(row.reference_name, row.reference_public))
    if not competition.is_revealed(now):
        return Boards(competition, public, history, references, None, None)
    public_rank = {entry.student: entry.rank for entry in public}
    by_private = sorted(chosen, key=lambda pair: (-pair[1].private_score, pair[1].submitted_at, pair[1].id))
    private = [
        PrivateEntry(rank, student, best.private_score, public_rank[student], public_rank[student] - rank,
                     best.run, best.tta)
        for rank, (student, best) in enumerate(by_private, start=1)
    ]
    private_references = _report_lines()
    if row.reference_private is not None:
        private_references.append(_shipped_line(row.reference_name, row.reference_private))
    return Boards(competition, public, history, references, private, private_references)


def _report_lines() -> list[ReferenceLine]:
    return [ReferenceLine(_(label), score) for label, score in REPORT_LINES]


def _shipped_line(model: str, score: float) -> ReferenceLine:
    return ReferenceLine(_("shipped model ({name})").format(name=model), score, SHIPPED)


def export_csv(name: str, store: CompetitionStore | None = None, now: datetime | None = None) -> str:
    """Both boards, one row per student, for grading; the private columns stay empty until the reveal."""
    result = boards(name, store, now)
    private = {entry.student: entry for entry in result.private or []}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "public_rank", "public_score", "submissions", "best_submitted_at",
                     "private_rank", "private_score", "rank_change", "run", "tta"])
    for entry in result.public:
        hidden = private.get(entry.student)
        writer.writerow([
            entry.student, entry.rank, f"{entry.best_score:.5f}", entry.submissions,
            entry.best_at.isoformat(timespec="seconds"),
            hidden.rank if hidden else "", f"{hidden.score:.5f}" if hidden else "",
            hidden.rank_change if hidden else "", hidden.run if hidden else "", hidden.tta if hidden else "",
        ])
    return out.getvalue()


# ----------------------------------------------------------------------------- rules, in small steps


def _now(now: datetime | None) -> datetime:
    return _aware(now) if now is not None else datetime.now().astimezone()


def _aware(moment: datetime) -> datetime:
    """A moment with a time zone: naive ones are read as the server's local time."""
    return moment if moment.tzinfo is not None else moment.astimezone()


def format_moment(moment: datetime, english: str, width: str = "short") -> str:
    """A moment as the reader's language writes it: `moment.strftime(english)` in English ("Wed 25 Nov
    18:00"), Babel's form of `width` in other languages ("2026/11/25 下午6:00"; "long" names the zone)."""
    if current_language() == SOURCE_LANGUAGE:
        return moment.strftime(english).strip()
    return format_datetime(moment, width)


def _when(moment: datetime) -> str:
    return format_moment(moment, "%a %d %b %Y %H:%M %Z", "long")


def _day_bounds(now: datetime) -> tuple[float, float]:
    """The day of `now` in its own time zone (the server's, from pages), as epoch seconds [start, end)."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def _closed_sentence(competition: Competition) -> str:
    return _("{name} closed at {deadline}: it takes no more submissions.").format(
        name=competition.name, deadline=_when(competition.deadline)
    )


def _limit_sentence(competition: Competition, used: int, day_end: float, now: datetime) -> str:
    opens = datetime.fromtimestamp(day_end, tz=now.tzinfo)
    values = {
        "used": used, "limit": competition.daily_limit, "name": competition.name,
        "opens": format_moment(opens, "%H:%M on %a %d %b"), "zone": opens.strftime("%Z"),
        "deadline": _when(competition.deadline),
    }
    if opens >= competition.deadline:
        return _(
            "You have made {used} of your {limit} submissions to {name} today: the next one opens at {opens} "
            "({zone}, server time), after the deadline ({deadline}): this was your last day."
        ).format(**values)
    return _(
        "You have made {used} of your {limit} submissions to {name} today: the next one opens at {opens} "
        "({zone}, server time)."
    ).format(**values)


def _require_teacher(by, sentence: str) -> None:
    """`sentence` (marked with N_, with a {name}) unless `by` is the teacher."""
    if not getattr(by, "is_teacher", False):
        raise CompetitionError(_(sentence).format(name=getattr(by, "name", "?")))


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise CompetitionError(
            _(
                "{name} is not a usable competition name: 1-60 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit."
            ).format(name=repr(name))
        )


def _row(name: str, store: CompetitionStore) -> CompetitionRow:
    row = store.competition(name) if isinstance(name, str) else None
    if row is None:
        known = ", ".join(competition.name for competition in store.competitions()[:5]) or _("none yet")
        raise CompetitionError(
            _("There is no competition called {name} (open ones: {known}).").format(name=repr(name), known=known)
        )
    return row


def _public(row: CompetitionRow) -> Competition:
    zone = datetime.now().astimezone().tzinfo
    return Competition(
        name=row.name,
        dataset=row.dataset,
        halves=Halves(row.public_split, row.private_split, row.halving_seed),
        public_faces=row.public_faces,
        private_faces=row.private_faces,
        deadline=datetime.fromtimestamp(row.deadline, tz=zone),
        daily_limit=row.daily_limit,
        opened_by=row.opened_by,
        opened_at=datetime.fromtimestamp(row.opened_at, tz=zone),
        revealed_at=datetime.fromtimestamp(row.revealed_at, tz=zone) if row.revealed_at is not None else None,
        practice=row.practice,
    )


def _halves_for(faces: FaceDataset, halve: str | None, seed: int, practice: bool) -> Halves:
    splits = ", ".join(faces.split_names)
    if halve is None:
        missing = [split for split in (PUBLIC_TEST, PRIVATE_TEST) if split not in faces.split_names]
        if missing:
            named = missing[0] if len(missing) == 1 else _("{first} or {second}").format(
                first=missing[0], second=missing[1])
            raise CompetitionError(
                _(
                    "{dataset} has no {missing} faces (its splits: {splits}), so FER2013's own halves cannot be "
                    "used: halve one of its test splits instead (e.g. {test}), or import the Kaggle fer2013.csv, "
                    "whose Usage column names PublicTest and PrivateTest."
                ).format(dataset=faces.name, missing=named, splits=splits, test=faces.test_split)
            )
        return Halves(PUBLIC_TEST, PRIVATE_TEST)
    if halve not in faces.split_names or halve in ("train", "val"):
        test_splits = ", ".join(s for s in faces.split_names if s not in ("train", "val")) or _("none")
        raise CompetitionError(
            _("{dataset} has no test split {split} to cut in two: pick one of its test splits ({splits}).").format(
                dataset=faces.name, split=repr(halve), splits=test_splits
            )
        )
    if len(faces.split(halve)[1]) < 2:
        raise CompetitionError(
            _("{dataset}'s {split} split has fewer than two faces: there is nothing to halve.").format(
                dataset=faces.name, split=halve
            )
        )
    if halve == faces.test_split and len(faces.split("train")[1]) and not practice:
        raise CompetitionError(
            _(
                "Trainings on {dataset} report their accuracy on {split}, both halves together, which with the "
                "public score gives away the private one: import the competition's test faces as a data set of "
                "their own (a test/ folder alone) and halve that, or use FER2013's PublicTest and PrivateTest."
            ).format(dataset=faces.name, split=halve)
        )
    if not isinstance(seed, int) or seed < 0:
        raise CompetitionError(
            _("The halving seed must be a whole number, 0 or more; got {seed}.").format(seed=repr(seed))
        )
    return Halves(halve, halve, seed)


def _check_run(run: str, by) -> None:
    from fer import registry

    try:
        info = registry.read_run(run)
    except registry.RegistryError as error:
        raise CompetitionError(_("Cannot submit {run}: {error}").format(run=repr(run), error=error)) from None
    if info.kind not in ("keras", "ensemble"):
        raise CompetitionError(
            _("{run} is of kind {kind}: submit a trained model or an ensemble.").format(run=run, kind=repr(info.kind))
        )
    if getattr(by, "is_teacher", False):
        return
    if info.shipped:
        raise CompetitionError(
            _(
                "{run} is the model shipped with the app: it is on the board already as a reference line. "
                "Submit a run of your own."
            ).format(run=run)
        )
    owner = getattr(info, "owner", None) or info.config.get("owner")
    if owner and owner != by.name:
        raise CompetitionError(
            _("{run} is {owner}'s run: submit one of your own (or an ensemble you built).").format(run=run, owner=owner)
        )


def _default_scorer(run: str, faces: FaceDataset, halves: Halves, tta: str) -> Scores:
    from fer.competition_scoring import score

    return score(run, faces, halves, tta)


def _reference_scores(reference_model: str | None, faces: FaceDataset, halves: Halves,
                      scorer: Scorer | None) -> tuple[str, Scores] | None:
    """The shipped model's scores for the board's reference line; None if there is none or it fails."""
    if reference_model is None:
        return None
    from fer import registry

    if reference_model == "shipped":
        shipped = [run.name for run in registry.list_runs() if run.shipped and run.kind == "keras"]
        if not shipped:
            return None
        reference_model = shipped[0]
    try:
        return reference_model, (scorer or _default_scorer)(reference_model, faces, halves, "none")
    except ValueError:  # a model that cannot be loaded or scored: the board simply has no line for it
        return None


def _best_public_by_student(submissions: list[SubmissionRow]) -> list[tuple[str, SubmissionRow]]:
    """Each student's submission with the best public score (the earliest of equals), best first."""
    best: dict[str, SubmissionRow] = {}
    for submission in submissions:  # oldest first, so a later equal score never replaces an earlier one
        kept = best.get(submission.student)
        if kept is None or submission.public_score > kept.public_score:
            best[submission.student] = submission
    return sorted(best.items(), key=lambda pair: (-pair[1].public_score, pair[1].submitted_at, pair[1].id))

