"""Who is who on a class server: the roster, each student's sign-in code, the teacher's choices.

The teacher pastes the class's names; every student gets a random code, shown once to the
teacher and kept here only as a salted scrypt hash. A student signs in with their name *and*
code: a name alone never makes anyone that student. The teacher signs in with the password
the server's operator put in `.streamlit/secrets.toml` (see `fer.classroom`).

Everything lives in one SQLite file in the data folder (`class.sqlite3`), so accounts survive
a server restart. Laptop mode never opens it.

    accounts = Accounts.default()
    codes = accounts.add_students(["Ana Lima", "Ben Okafor"])   # {"Ana Lima": "k7qm-x2fp-9hdt", ...}
    user = accounts.sign_in_student("Ana Lima", "k7qm-x2fp-9hdt")  # User("Ana Lima", "student")
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import time
import unicodedata
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from fer.i18n import N_, _

LAPTOP, STUDENT, TEACHER = "laptop", "student", "teacher"
LAPTOP_NAME = "you"  # the one user of laptop mode
TEACHER_NAME = "teacher"
COMMAND_LINE_NAME = "command line"  # the owner `python -m fer train` records
RESERVED_NAMES = (LAPTOP_NAME, TEACHER_NAME, COMMAND_LINE_NAME)

ACCOUNTS_FILE = "class.sqlite3"
MAX_NAME_LENGTH = 40
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: codes are read aloud and typed
CODE_GROUPS, CODE_GROUP_LENGTH = 3, 4  # 31**12: about 59 bits
MAX_STUDENTS = 500

# scrypt with 16 MiB of memory: about 50 ms a check, so guessing codes costs a lot more than signing in.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, HASH_BYTES = 2**14, 8, 1, 16, 32

SIGN_IN_REFUSED = N_("That name and code do not match a student of this class: check both "
                      "(the code is on the slip from your teacher), or ask the teacher for a new code.")


class AccountError(ValueError):
    """A roster or sign-in problem a person can fix; the message says how."""


@dataclass(frozen=True)
class User:
    name: str  # shown on run lists and the teacher's page; the owner recorded with every run
    role: str  # LAPTOP, STUDENT or TEACHER

    @property
    def is_teacher(self) -> bool:
        """Allowed everything: the teacher of a class, or the one user of a laptop."""
        return self.role in (LAPTOP, TEACHER)


LAPTOP_USER = User(LAPTOP_NAME, LAPTOP)
TEACHER_USER = User(TEACHER_NAME, TEACHER)


# ----------------------------------------------------------------------------- secrets, hashed


def hash_secret(secret: str) -> str:
    """`scrypt$N$r$p$salt$hash` (hex) of a secret, with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str | None) -> bool:
    """True when `secret` hashes to `stored` (compared in constant time); False for anything malformed."""
    try:
        scheme, n, r, p, salt, digest = (stored or "").split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = _scrypt(secret, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES, maxmem=64 << 20)


_UNKNOWN_NAME_HASH: list[str] = []


def _unknown_name_hash() -> str:
    if not _UNKNOWN_NAME_HASH:
        _UNKNOWN_NAME_HASH.append(hash_secret(new_code()))
    return _UNKNOWN_NAME_HASH[0]


def new_code() -> str:
    """A random sign-in code such as `k7qm-x2fp-9hdt`."""
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH)) for _ in range(CODE_GROUPS))
    return "-".join(groups)


def normalise_code(text: str) -> str:
    """What a student typed, as the code is stored: lower case, without spaces or dashes."""
    return re.sub(r"[\s-]+", "", str(text)).lower()


# ----------------------------------------------------------------------------- names

_NAME_CHARACTERS = re.compile(r"^[\w .'-]+$")


def clean_name(name: str) -> str:
    """A student's name as the roster keeps it (spaces tidied), or an AccountError saying what is wrong."""
    cleaned = " ".join(unicodedata.normalize("NFC", str(name)).split())
    if not cleaned:
        raise AccountError(_("A student's name cannot be empty."))
    if len(cleaned) > MAX_NAME_LENGTH:
        raise AccountError(_("{name}... is longer than {limit} characters: shorten it.").format(
            name=cleaned[:MAX_NAME_LENGTH], limit=MAX_NAME_LENGTH
        ))
    if not _NAME_CHARACTERS.match(cleaned) or cleaned[0] in ".-'":
        raise AccountError(_("{name} is not a name this roster takes: use letters, digits, spaces, "
                             "'.', '-' or an apostrophe, starting with a letter or digit.").format(name=repr(cleaned)))
    if cleaned.casefold() in RESERVED_NAMES:
        raise AccountError(
            _("{name} is kept for the app itself: add the student under another name.").format(name=repr(cleaned))
        )
    return cleaned


# ----------------------------------------------------------------------------- the teacher


def sign_in_teacher(password: str, configured: str | None) -> User:
    """The teacher, when `password` equals the configured one (compared in constant time)."""
    if not configured:
        raise AccountError(_("No teacher password is set on this server: put `teacher_password` under [fer] in "
                             ".streamlit/secrets.toml and restart it (README, \"Running a class server\")."))
    if not hmac.compare_digest(str(password).encode("utf-8"), str(configured).encode("utf-8")):
        raise AccountError(_("That is not the teacher password of this server."))
    return TEACHER_USER


# ----------------------------------------------------------------------------- the roster


@dataclass(frozen=True)
class Student:
    name: str
    added: float
    last_sign_in: float | None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS students (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    secret_hash TEXT NOT NULL,
    added REAL NOT NULL,
    last_sign_in REAL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS datasets (name TEXT PRIMARY KEY, owner TEXT NOT NULL);
"""

OTHERS_RUNS_VISIBLE = "others_runs_visible"  # "1": students see (read-only) each other's runs; "0": hidden


class Accounts:
    """The class's accounts in one SQLite file (WAL mode: readers never wait for a writer)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)

    @classmethod
    def default(cls) -> "Accounts":
        """The accounts of this server: `$FER_ACCOUNTS_FILE`, else `class.sqlite3` in the data folder."""
        return cls(cls.default_path())

    @staticmethod
    def default_path() -> Path:
        from fer.data import data_dir

        return Path(os.environ.get("FER_ACCOUNTS_FILE") or data_dir() / ACCOUNTS_FILE)

    def _connect(self) -> sqlite3.Connection:
        # One short connection per call: Streamlit serves each session from its own thread.
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        connection.execute("PRAGMA busy_timeout=10000")
        return connection

    # --- students

    def add_students(self, names: Iterable[str]) -> dict[str, str]:
        """Add every name not on the roster yet; returns {name: code} for those added (codes shown once).

        Every name is checked before any is added: a bad line adds nobody.
        """
        cleaned = list(dict.fromkeys(clean_name(name) for name in names if str(name).strip()))
        codes = {name: new_code() for name in cleaned}
        hashes = {name: hash_secret(normalise_code(code)) for name, code in codes.items()}
        added = {}
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                present = {row[0].casefold() for row in connection.execute("SELECT name FROM students")}
                if len(present | {name.casefold() for name in cleaned}) > MAX_STUDENTS:
                    raise AccountError(
                        _("A class holds at most {limit} students: remove some first.").format(limit=MAX_STUDENTS)
                    )
                for name in cleaned:
                    if name.casefold() in present:
                        continue
                    connection.execute("INSERT INTO students (name, secret_hash, added) VALUES (?, ?, ?)",
                                       (name, hashes[name], time.time()))
                    added[name] = codes[name]
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return added

    def new_code_for(self, name: str) -> str:
        """A fresh code for a student who lost theirs; the old one stops working."""
        code = new_code()
        with closing(self._connect()) as connection:
            changed = connection.execute("UPDATE students SET secret_hash = ? WHERE name = ?",
                                         (hash_secret(normalise_code(code)), clean_name(name))).rowcount
        if not changed:
            raise AccountError(_("{name} is not on the roster: add them first.").format(name=repr(name)))
        return code

    def remove_student(self, name: str) -> None:
        """Take a student off the roster (their runs stay, owned by their name)."""
        with closing(self._connect()) as connection:
            connection.execute("DELETE FROM students WHERE name = ?", (clean_name(name),))

    def students(self) -> list[Student]:
        with closing(self._connect()) as connection:
            rows = connection.execute("SELECT name, added, last_sign_in FROM students ORDER BY name COLLATE NOCASE")
            return [Student(*row) for row in rows]

    def sign_in_student(self, name: str, code: str) -> User:
        """The student, when `code` is theirs; the same sentence for an unknown name and a wrong code."""
        try:
            cleaned = clean_name(name)
        except AccountError:
            cleaned = None
        row = None
        if cleaned is not None:
            with closing(self._connect()) as connection:
                row = connection.execute("SELECT name, secret_hash FROM students WHERE name = ?", (cleaned,)).fetchone()
        # An unknown name costs a hash too, so timing does not tell which names are on the roster.
        stored = row[1] if row else _unknown_name_hash()
        if not secret_matches(normalise_code(code), stored) or row is None or not normalise_code(code):
            raise AccountError(_(SIGN_IN_REFUSED))
        with closing(self._connect()) as connection:
            connection.execute("UPDATE students SET last_sign_in = ? WHERE name = ?", (time.time(), row[0]))
        return User(row[0], STUDENT)

    # --- the teacher's choices

    def setting(self, key: str, default: str) -> str:
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with closing(self._connect()) as connection:
            connection.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, str(value)))

    @property
    def others_runs_visible(self) -> bool:
        """Whether students see each other's runs (read-only); the teacher chooses, visible by default."""
        return self.setting(OTHERS_RUNS_VISIBLE, "1") == "1"

    @others_runs_visible.setter
    def others_runs_visible(self, visible: bool) -> None:
        self.set_setting(OTHERS_RUNS_VISIBLE, "1" if visible else "0")

    # --- who imported which data set

    def dataset_owner(self, name: str) -> str | None:
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT owner FROM datasets WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def record_dataset(self, name: str, owner: str) -> None:
        with closing(self._connect()) as connection:
            connection.execute("INSERT INTO datasets (name, owner) VALUES (?, ?) "
                               "ON CONFLICT(name) DO UPDATE SET owner = excluded.owner", (name, owner))

    def forget_dataset(self, name: str) -> None:
        with closing(self._connect()) as connection:
            connection.execute("DELETE FROM datasets WHERE name = ?", (name,))
