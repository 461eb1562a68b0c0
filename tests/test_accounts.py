"""Accounts of a class server: codes stored hashed, a name alone never signs in, the file survives a new process,
the teacher's password compared exactly, class settings read strictly (a bad one is a sentence, never laptop mode)."""

import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from fer import accounts as accounts_module
from fer.accounts import SIGN_IN_REFUSED, STUDENT, TEACHER, AccountError, Accounts, User
from fer.classroom import ClassSettings, ClassSettingsError
from tests.conftest import REPO_ROOT


@pytest.fixture
def roster(tmp_path) -> Accounts:
    return Accounts(tmp_path / "class.sqlite3")


def test_a_secret_is_salted_and_checked(roster):
    first, second = accounts_module.hash_secret("k7qmx2fp9hdt"), accounts_module.hash_secret("k7qmx2fp9hdt")
    assert first != second  # a fresh salt each time: equal codes do not show as equal hashes
    assert accounts_module.secret_matches("k7qmx2fp9hdt", first)
    assert accounts_module.secret_matches("k7qmx2fp9hdt", second)
    assert not accounts_module.secret_matches("k7qmx2fp9hdu", first)
    for damaged in ("", None, "scrypt$1$2", first.replace("scrypt", "md5"), first[:-2] + "zz"):
        assert not accounts_module.secret_matches("k7qmx2fp9hdt", damaged)


def test_codes_are_random_and_typed_loosely():
    codes = {accounts_module.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(code) == 14 and code.count("-") == 2 for code in codes)
    assert accounts_module.normalise_code(" K7QM-x2fp 9HDT ") == "k7qmx2fp9hdt"


def test_the_right_code_signs_in_and_nothing_else_does(roster):
    codes = roster.add_students(["Ana Lima", "Ben Okafor"])
    assert set(codes) == {"Ana Lima", "Ben Okafor"}
    assert roster.sign_in_student("Ana Lima", codes["Ana Lima"]) == User("Ana Lima", STUDENT)
    # Typed as people type: other capitals, spaces for dashes, the name's spaces tidied.
    assert roster.sign_in_student("  ana   lima ", codes["Ana Lima"].upper().replace("-", " ")).name == "Ana Lima"
    wrong = [
        ("Ana Lima", ""),  # the name alone
        ("Ana Lima", "   "),
        ("Ana Lima", codes["Ben Okafor"]),  # another student's code
        ("Ana Lima", codes["Ana Lima"][:-1] + ("2" if codes["Ana Lima"][-1] != "2" else "3")),
        ("Carla Nunes", codes["Ana Lima"]),  # a name not on the roster
        ("teacher", codes["Ana Lima"]),
        ("", codes["Ana Lima"]),
    ]
    for name, code in wrong:
        with pytest.raises(AccountError) as refused:
            roster.sign_in_student(name, code)
        assert str(refused.value) == SIGN_IN_REFUSED  # one sentence: it does not tell which names exist


def test_codes_are_kept_only_as_hashes(roster):
    codes = roster.add_students(["Ana Lima"])
    stored = b"".join(path.read_bytes() for path in roster.path.parent.glob("class.sqlite3*"))
    code = codes["Ana Lima"]
    assert code.encode() not in stored and accounts_module.normalise_code(code).encode() not in stored
    assert b"scrypt$" in stored


def test_a_new_code_replaces_the_old_one(roster):
    old = roster.add_students(["Ana Lima"])["Ana Lima"]
    new = roster.new_code_for("ana lima")
    with pytest.raises(AccountError):
        roster.sign_in_student("Ana Lima", old)
    assert roster.sign_in_student("Ana Lima", new).name == "Ana Lima"
    with pytest.raises(AccountError, match="not on the roster"):
        roster.new_code_for("Nobody Here")


def test_adding_again_skips_who_is_there_and_a_bad_line_adds_nobody(roster):
    roster.add_students(["Ana Lima"])
    assert set(roster.add_students(["ANA LIMA", "Ben Okafor", "Ben Okafor", ""])) == {"Ben Okafor"}
    with pytest.raises(AccountError, match="'Teacher' is kept for the app"):
        roster.add_students(["Carla Nunes", "Teacher"])
    assert [student.name for student in roster.students()] == ["Ana Lima", "Ben Okafor"]


@pytest.mark.parametrize(
    "name, sentence",
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("teacher", "kept for the app"),
        ("You", "kept for the app"),
        ("command line", "kept for the app"),
        ("x" * 41, "longer than 40"),
        ("<script>", "not a name"),
        ("-ana", "not a name"),
        ("ana/../ben", "not a name"),
    ],
)
def test_names_the_roster_refuses(name, sentence):
    with pytest.raises(AccountError, match=sentence):
        accounts_module.clean_name(name)


def test_names_the_roster_takes():
    assert accounts_module.clean_name("  José   María O'Neil-Ruiz ") == "José María O'Neil-Ruiz"
    assert accounts_module.clean_name("Ana Lima 2") == "Ana Lima 2"


def test_a_removed_student_cannot_sign_in(roster):
    code = roster.add_students(["Ana Lima"])["Ana Lima"]
    roster.remove_student("Ana Lima")
    with pytest.raises(AccountError):
        roster.sign_in_student("Ana Lima", code)


def test_accounts_survive_a_new_process(roster):
    code = roster.add_students(["Ana Lima"])["Ana Lima"]
    roster.others_runs_visible = False
    roster.record_dataset("ana-fer2013", "Ana Lima")
    script = textwrap.dedent(f"""
        from fer.accounts import Accounts
        accounts = Accounts({str(roster.path)!r})
        user = accounts.sign_in_student("Ana Lima", {code!r})
        print(user.name, user.role, accounts.others_runs_visible, accounts.dataset_owner("ana-fer2013"))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Ana", "Lima", "student", "False", "Ana", "Lima"]
    assert roster.students()[0].last_sign_in is not None  # the other process's sign-in is recorded here too


def test_the_file_is_in_wal_mode_and_threads_sign_in_at_once(roster):
    codes = roster.add_students([f"Student {number}" for number in range(8)])
    with sqlite3.connect(roster.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    signed, failures = [], []

    def sign_in(name: str) -> None:
        try:
            signed.append(Accounts(roster.path).sign_in_student(name, codes[name]).name)
        except Exception as error:  # noqa: BLE001 - collected and shown below
            failures.append(error)

    threads = [threading.Thread(target=sign_in, args=(name,)) for name in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == [] and sorted(signed) == sorted(codes)


def test_the_default_file_is_in_the_data_folder(isolated_folders, monkeypatch):
    _, data = isolated_folders
    assert Accounts.default().path == data / "class.sqlite3"
    monkeypatch.setenv("FER_ACCOUNTS_FILE", str(data / "elsewhere.sqlite3"))
    assert Accounts.default().path == data / "elsewhere.sqlite3"


def test_others_runs_are_visible_until_the_teacher_hides_them(roster):
    assert roster.others_runs_visible
    roster.others_runs_visible = False
    assert not Accounts(roster.path).others_runs_visible


def test_the_teacher_password():
    assert accounts_module.sign_in_teacher("correct horse", "correct horse") == User("teacher", TEACHER)
    with pytest.raises(AccountError, match="not the teacher password"):
        accounts_module.sign_in_teacher("correct hors", "correct horse")
    with pytest.raises(AccountError, match="not the teacher password"):
        accounts_module.sign_in_teacher("", "correct horse")
    for unset in (None, ""):
        with pytest.raises(AccountError, match="secrets.toml"):
            accounts_module.sign_in_teacher("", unset)


# ----------------------------------------------------------------------------- class settings


def test_laptop_mode_is_the_default():
    assert ClassSettings.from_sources(None, {}) == ClassSettings(False, None, ())
    assert ClassSettings.from_sources({"other": {"x": 1}}, {}).class_mode is False


def test_class_mode_from_secrets_and_the_environment(tmp_path):
    secrets = {"fer": {"class_mode": True, "teacher_password": "pw", "allowed_folders": [str(tmp_path)]}}
    settings = ClassSettings.from_sources(secrets, {})
    assert settings == ClassSettings(True, "pw", (tmp_path.resolve(),))
    assert ClassSettings.from_sources(secrets, {"FER_CLASS_MODE": "0"}).class_mode is False
    assert ClassSettings.from_sources({}, {"FER_CLASS_MODE": "yes"}).class_mode is True
    assert ClassSettings.from_sources({"fer": {"class_mode": "true"}}, {}).class_mode is True


@pytest.mark.parametrize(
    "secrets, environment, sentence",
    [
        ({"fer": {"class_mode": "maybe"}}, {}, "class_mode .* is 'maybe'"),
        ({}, {"FER_CLASS_MODE": "2"}, "FER_CLASS_MODE is '2'"),
        ({"fer": "class"}, {}, "must be a table"),
        ({"fer": {"teacher_password": 1234}}, {}, "text in quotes"),
        ({"fer": {"allowed_folders": "data"}}, {}, "not an absolute path"),
        ({"fer": {"allowed_folders": ["/no/such/folder/here"]}}, {}, "not a folder on this server"),
        ({"fer": {"allowed_folders": ["/"]}}, {}, "the whole file system"),
        ({"fer": {"allowed_folders": 7}}, {}, "must be a list"),
    ],
)
def test_bad_class_settings_are_sentences(secrets, environment, sentence):
    with pytest.raises(ClassSettingsError, match=sentence):
        ClassSettings.from_sources(secrets, environment)


def test_the_example_secrets_file_means_class_mode_with_uploads_only():
    import tomllib

    example = tomllib.loads((REPO_ROOT / ".streamlit" / "secrets.toml.example").read_text())
    settings = ClassSettings.from_sources(example, {})
    assert settings.class_mode and settings.allowed_folders == () and settings.teacher_password
    ignored = subprocess.run(["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=REPO_ROOT)
    assert ignored.returncode == 0, "git must ignore .streamlit/secrets.toml: it holds the teacher's password"
