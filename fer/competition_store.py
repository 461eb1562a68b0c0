"""Where competitions and their submissions are kept: one SQLite file in the data folder.

`competitions.sqlite3` (or `$FER_COMPETITIONS_FILE`) in WAL mode, so pages reading the boards
never wait for a submission being written. Each call opens a short connection of its own:
Streamlit serves every browser session from its own thread, and the command line is another
process. Times are stored as seconds since the epoch (UTC).

The one rule that needs a transaction is the daily limit: `reserve` counts a student's
submissions of the day and inserts the new one inside one `BEGIN IMMEDIATE` transaction, which
takes SQLite's write lock before counting, so two submissions racing each other (threads or
processes) are counted one after the other, never both against the same count. A reserved
submission is scored afterwards (`record_scores`) or given back (`drop`) if scoring fails.

This module stores and counts; `fer.competition` holds the rules and is what pages call.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

COMPETITIONS_FILE = "competitions.sqlite3"
SCHEMA_VERSION = 1
# A reservation whose scoring never finished (the server died meanwhile) stops counting after this long.
STALE_RESERVATION_SECONDS = 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS competitions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    dataset TEXT NOT NULL,
    public_split TEXT NOT NULL,
    private_split TEXT NOT NULL,
    halving_seed INTEGER,              -- NULL: FER2013's Usage names the halves; else the seed that halves one split
    public_faces INTEGER NOT NULL,
    private_faces INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,         -- of the scoring faces and labels when the competition opened
    deadline REAL NOT NULL,
    daily_limit INTEGER NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at REAL NOT NULL,
    revealed_at REAL,
    practice INTEGER NOT NULL DEFAULT 0,
    reference_name TEXT,               -- the shipped model, scored when the competition opened
    reference_public REAL,
    reference_private REAL
);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    competition_id INTEGER NOT NULL REFERENCES competitions(id) ON DELETE CASCADE,
    student TEXT NOT NULL,
    run TEXT NOT NULL,
    tta TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    scored INTEGER NOT NULL DEFAULT 0, -- 0 while the server scores it
    public_score REAL,
    private_score REAL,
    run_fingerprint TEXT
);
CREATE INDEX IF NOT EXISTS submissions_by_student ON submissions (competition_id, student, submitted_at);
"""


class LimitReached(Exception):
    """The student has used the day's submissions; `used` of them, the day ending at `day_end`."""

    def __init__(self, used: int, day_end: float):
        super().__init__(f"{used} submissions already today")
        self.used, self.day_end = used, day_end


class Closed(Exception):
    """The competition's deadline has passed."""


@dataclass(frozen=True)
class CompetitionRow:
    id: int
    name: str
    dataset: str
    public_split: str
    private_split: str
    halving_seed: int | None
    public_faces: int
    private_faces: int
    fingerprint: str
    deadline: float
    daily_limit: int
    opened_by: str
    opened_at: float
    revealed_at: float | None
    practice: bool
    reference_name: str | None
    reference_public: float | None
    reference_private: float | None


@dataclass(frozen=True)
class SubmissionRow:
    id: int
    competition_id: int
    student: str
    run: str
    tta: str
    submitted_at: float
    public_score: float
    private_score: float


class CompetitionStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
            connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @classmethod
    def default(cls) -> "CompetitionStore":
        """This server's store (the file is made on first use)."""
        return cls(default_path())

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("PRAGMA foreign_keys=ON")
        return connection

    @contextmanager
    def _write(self):
        """One write transaction holding SQLite's write lock from its first statement."""
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # --- competitions

    def insert_competition(self, **fields) -> CompetitionRow:
        """Add a competition; sqlite3.IntegrityError if the name is taken."""
        columns = ", ".join(fields)
        with self._write() as connection:
            connection.execute(
                f"INSERT INTO competitions ({columns}) VALUES ({', '.join('?' for _ in fields)})",
                tuple(fields.values()),
            )
        return self.competition(fields["name"])

    def competition(self, name: str) -> CompetitionRow | None:
        with closing(self._connect()) as connection:
            row = connection.execute(
                f"SELECT {_COMPETITION_COLUMNS} FROM competitions WHERE name = ?", (name,)
            ).fetchone()
        return _competition(row) if row else None

    def competitions(self) -> list[CompetitionRow]:
        """Newest first."""
        with closing(self._connect()) as connection:
            rows = connection.execute(
                f"SELECT {_COMPETITION_COLUMNS} FROM competitions ORDER BY opened_at DESC, id DESC"
            ).fetchall()
        return [_competition(row) for row in rows]

    def set_revealed(self, competition_id: int, moment: float) -> None:
        with self._write() as connection:
            connection.execute(
                "UPDATE competitions SET revealed_at = ? WHERE id = ? AND revealed_at IS NULL", (moment, competition_id)
            )

    # --- submissions

    def reserve(
        self, competition_id: int, student: str, run: str, tta: str, moment: float, day_start: float, day_end: float
    ) -> int:
        """Count `student`'s submissions in [day_start, day_end) and add one, atomically; its id.

        LimitReached when the day's limit is used up, Closed when the deadline has passed.
        """
        with self._write() as connection:
            deadline, limit = connection.execute(
                "SELECT deadline, daily_limit FROM competitions WHERE id = ?", (competition_id,)
            ).fetchone()
            if moment >= deadline:
                raise Closed()
            (used,) = connection.execute(
                "SELECT COUNT(*) FROM submissions WHERE competition_id = ? AND student = ? "
                "AND submitted_at >= ? AND submitted_at < ? AND (scored = 1 OR submitted_at >= ?)",
                (competition_id, student, day_start, day_end, moment - STALE_RESERVATION_SECONDS),
            ).fetchone()
            if used >= limit:
                raise LimitReached(used, day_end)
            cursor = connection.execute(
                "INSERT INTO submissions (competition_id, student, run, tta, submitted_at) VALUES (?, ?, ?, ?, ?)",
                (competition_id, student, run, tta, moment),
            )
            return int(cursor.lastrowid)

    def record_scores(self, submission_id: int, public: float, private: float, run_fingerprint: str) -> None:
        with self._write() as connection:
            connection.execute(
                "UPDATE submissions SET scored = 1, public_score = ?, private_score = ?, run_fingerprint = ? "
                "WHERE id = ?",
                (public, private, run_fingerprint, submission_id),
            )

    def drop(self, submission_id: int) -> None:
        """Give back a reservation whose scoring failed: it does not count against the limit."""
        with self._write() as connection:
            connection.execute("DELETE FROM submissions WHERE id = ? AND scored = 0", (submission_id,))

    def scored_submissions(self, competition_id: int) -> list[SubmissionRow]:
        """Every scored submission, oldest first (private scores included: for fer.competition only)."""
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT id, competition_id, student, run, tta, submitted_at, public_score, private_score "
                "FROM submissions WHERE competition_id = ? AND scored = 1 ORDER BY submitted_at, id",
                (competition_id,),
            ).fetchall()
        return [SubmissionRow(*row) for row in rows]

    def count_today(self, competition_id: int, student: str, day_start: float, day_end: float, moment: float) -> int:
        with closing(self._connect()) as connection:
            (used,) = connection.execute(
                "SELECT COUNT(*) FROM submissions WHERE competition_id = ? AND student = ? "
                "AND submitted_at >= ? AND submitted_at < ? AND (scored = 1 OR submitted_at >= ?)",
                (competition_id, student, day_start, day_end, moment - STALE_RESERVATION_SECONDS),
            ).fetchone()
        return int(used)


def default_path() -> Path:
    """`$FER_COMPETITIONS_FILE`, else competitions.sqlite3 in the data folder."""
    from fer.data import data_dir

    return Path(os.environ.get("FER_COMPETITIONS_FILE") or data_dir() / COMPETITIONS_FILE)


_COMPETITION_FIELDS = tuple(CompetitionRow.__dataclass_fields__)
_COMPETITION_COLUMNS = ", ".join(_COMPETITION_FIELDS)


def _competition(row: tuple) -> CompetitionRow:
    values = dict(zip(_COMPETITION_FIELDS, row))
    values["practice"] = bool(values["practice"])
    return CompetitionRow(**values)
