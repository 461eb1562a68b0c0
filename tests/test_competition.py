"""The class competition's back end: scores, boards, the reveal, the daily limit, a restart, bad input.

Scores are checked against `python -m fer evaluate` run on the same model, split and test-time
augmentation; the boards against a scorer whose scores the test chooses.
"""

import csv
import io
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from fer import competition, data
from fer.__main__ import main
from fer.competition import CompetitionError, Person
from fer.competition_scoring import Halves, Scores, halving
from fer.competition_store import CompetitionStore
from tests.conftest import REPO_ROOT
from tests.models import pooled_softmax, save_tiny_run

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
TEACHER = Person("teacher", is_teacher=True)
ANA, BEN, CHO = Person("Ana"), Person("Ben"), Person("Cho")


def write_kaggle_cache(name: str = "kaggle", per_split: int = 70, seed: int = 0) -> None:
    """A FER2013-like cache: Training, PublicTest and PrivateTest faces (random pixels, labels 0-6)."""
    rng = np.random.default_rng(seed)
    usage = np.repeat(np.array(["Training", "PublicTest", "PrivateTest"]), per_split)
    labels = rng.integers(0, 7, len(usage)).astype(np.uint8)
    images = rng.integers(0, 256, (len(usage), 48, 48), dtype=np.uint8)
    data.data_dir().mkdir(parents=True, exist_ok=True)
    np.savez(data.cache_path(name), x=images, y=labels, usage=usage)


def label_private_as_the_model_answers(model, name: str = "kaggle") -> None:
    """Rewrite the cache so that PrivateTest's labels are the model's answers: its private score is 1."""
    from fer.preprocessing import to_model_input

    with np.load(data.cache_path(name)) as archive:
        arrays = {key: archive[key] for key in archive.files}
    private = arrays["usage"] == "PrivateTest"
    arrays["y"][private] = np.asarray(model(to_model_input(arrays["x"][private]))).argmax(axis=1)
    np.savez(data.cache_path(name), **arrays)


def write_test_only_cache(name: str = "class-test", faces: int = 61, seed: int = 1) -> None:
    """A test set imported as a data set of its own (the image-folder release's test/ alone)."""
    rng = np.random.default_rng(seed)
    data.data_dir().mkdir(parents=True, exist_ok=True)
    np.savez(data.cache_path(name), x=rng.integers(0, 256, (faces, 48, 48), dtype=np.uint8),
             y=rng.integers(0, 7, faces).astype(np.uint8), usage=np.array(["MixedTest"] * faces))


class ChosenScores:
    """A scorer that answers the scores a test chose for each run (and counts its calls)."""

    def __init__(self, scores: dict[str, tuple[float, float]]):
        self.scores, self.calls = scores, 0

    def __call__(self, run, faces, halves, tta) -> Scores:
        self.calls += 1
        return Scores(*self.scores[run])


@pytest.fixture
def store(tmp_path) -> CompetitionStore:
    return CompetitionStore(tmp_path / "competitions.sqlite3")


def open_kaggle(store, name="fer-class", days=7, limit=5, **options):
    write_kaggle_cache()
    return competition.open_competition(
        name, "kaggle", by=TEACHER, deadline=NOW + timedelta(days=days), daily_limit=limit, store=store,
        now=NOW, **options,
    )


def cli_accuracy(capsys, *arguments) -> str:
    assert main(["evaluate", *arguments]) == 0
    return re.search(r"^accuracy (\d\.\d{4}) on (\d+) faces", capsys.readouterr().out, re.M).group(1)


# --- scores: the same numbers as python -m fer evaluate --------------------------------------------


@pytest.mark.parametrize("tta", ["none", "flip", "ten-crop"])
def test_scores_are_what_fer_evaluate_gives_for_the_same_model_split_and_tta(store, capsys, tta):
    write_kaggle_cache()
    save_tiny_run("ana-net", pooled_softmax(seed=3))
    label_private_as_the_model_answers(pooled_softmax(seed=3))
    competition.open_competition("fer-class", "kaggle", by=TEACHER, deadline=NOW + timedelta(days=7), store=store,
                                 now=NOW, reference_model=None)
    result = competition.submit("fer-class", "ana-net", tta, by=ANA, store=store, now=NOW)
    public = cli_accuracy(capsys, "--model", "ana-net", "--data", "kaggle", "--split", "PublicTest", "--tta", tta)
    assert f"{result.public_score:.4f}" == public
    competition.reveal("fer-class", by=TEACHER, store=store, now=NOW)
    private = cli_accuracy(capsys, "--model", "ana-net", "--data", "kaggle", "--split", "PrivateTest", "--tta", tta)
    assert f"{competition.boards('fer-class', store, now=NOW).private[0].score:.4f}" == private
    if tta == "none":  # two different halves, not one split scored twice
        assert (private, float(public) < 0.5) == ("1.0000", True)


def test_an_ensemble_is_scored_like_fer_evaluate_scores_it(store, capsys):
    from fer import ensemble

    open_kaggle(store, reference_model=None)
    save_tiny_run("one", pooled_softmax(seed=1))
    save_tiny_run("two", pooled_softmax(seed=2))
    ensemble.save_ensemble("pair", ["one", "two"], [0.3, 0.7], dataset="kaggle")
    result = competition.submit("fer-class", "pair", "flip", by=ANA, store=store, now=NOW)
    assert f"{result.public_score:.4f}" == cli_accuracy(
        capsys, "--model", "pair", "--data", "kaggle", "--split", "PublicTest", "--tta", "flip")


def test_scoring_waits_for_one_of_the_servers_prediction_slots(store):
    """A whole class submitting at once must not load a model per student into the one server."""
    import threading

    from fer import evaluate

    open_kaggle(store, reference_model=None)
    save_tiny_run("ana-net", pooled_softmax(seed=3))
    results = []
    submitting = threading.Thread(target=lambda: results.append(
        competition.submit("fer-class", "ana-net", "none", by=ANA, store=store, now=NOW)))
    taken = [evaluate.PREDICTION_SLOTS.acquire(timeout=5) for _ in range(2)]  # two pages predicting a split
    try:
        assert all(taken)
        submitting.start()
        submitting.join(timeout=3)
        assert submitting.is_alive() and results == []  # waiting, not scoring beside them
    finally:
        for _ in filter(None, taken):
            evaluate.PREDICTION_SLOTS.release()
    submitting.join(timeout=60)
    assert len(results) == 1 and 0 <= results[0].public_score <= 1


def test_the_halves_of_a_test_set_add_up_to_fer_evaluate_on_the_whole_split(store, capsys):
    write_test_only_cache()
    competition.open_competition("halved", "class-test", by=TEACHER, deadline=NOW + timedelta(days=3),
                                 halve="test", seed=4, store=store, now=NOW, reference_model=None)
    save_tiny_run("ana-net", pooled_softmax(seed=5))
    competition.submit("halved", "ana-net", "none", by=ANA, store=store, now=NOW)
    competition.reveal("halved", by=TEACHER, store=store, now=NOW)
    boards = competition.boards("halved", store, now=NOW)
    public, private = halving(61, 4)
    assert (len(public), len(private)) == (30, 31) and not set(public) & set(private)
    correct = boards.public[0].best_score * 30 + boards.private[0].score * 31
    whole = float(cli_accuracy(capsys, "--model", "ana-net", "--data", "class-test", "--split", "test"))
    assert round(correct) == round(whole * 61)
    assert np.array_equal(halving(61, 4)[0], public)  # the same seed, the same halves


# --- boards: ranks, the reveal, the shake-up ---------------------------------------------------------


def test_the_public_board_ranks_best_scores_and_counts_submissions(store):
    open_kaggle(store, reference_model=None)
    for run in ("a1", "a2", "b1", "c1"):
        save_tiny_run(run)
    scorer = ChosenScores({"a1": (0.50, 0.40), "a2": (0.60, 0.45), "b1": (0.60, 0.70), "c1": (0.55, 0.58)})
    for minutes, (person, run) in enumerate([(ANA, "a1"), (BEN, "b1"), (ANA, "a2"), (CHO, "c1")]):
        competition.submit("fer-class", run, by=person, store=store, scorer=scorer,
                           now=NOW + timedelta(minutes=minutes))
    boards = competition.boards("fer-class", store, now=NOW + timedelta(hours=1))
    # Ana and Ben tie at 0.60: Ben reached it first.
    assert [(e.rank, e.student, e.best_score, e.submissions) for e in boards.public] == [
        (1, "Ben", 0.60, 1), (2, "Ana", 0.60, 2), (3, "Cho", 0.55, 1)]
    assert [(p.student, p.public_score) for p in boards.history] == [
        ("Ana", 0.50), ("Ben", 0.60), ("Ana", 0.60), ("Cho", 0.55)]
    assert [line.score for line in boards.references] == [0.60, 0.65]
    assert boards.private is None and boards.private_references is None


def test_after_the_reveal_the_private_board_shows_the_shake_up(store):
    open_kaggle(store, reference_model=None)
    for run in ("a1", "a2", "b1", "c1"):
        save_tiny_run(run)
    scorer = ChosenScores({"a1": (0.50, 0.90), "a2": (0.60, 0.45), "b1": (0.60, 0.70), "c1": (0.55, 0.58)})
    for minutes, (person, run) in enumerate([(ANA, "a1"), (BEN, "b1"), (ANA, "a2"), (CHO, "c1")]):
        competition.submit("fer-class", run, by=person, store=store, scorer=scorer,
                           now=NOW + timedelta(minutes=minutes))
    competition.reveal("fer-class", by=TEACHER, store=store, now=NOW + timedelta(hours=1))
    private = competition.boards("fer-class", store, now=NOW + timedelta(hours=1)).private
    # Each student's best public submission counts (Ana's a2, not her private 0.90 of a1).
    assert [(e.rank, e.student, e.score, e.public_rank, e.rank_change, e.run) for e in private] == [
        (1, "Ben", 0.70, 1, 0, "b1"), (2, "Cho", 0.58, 3, +1, "c1"), (3, "Ana", 0.45, 2, -1, "a2")]


def test_private_scores_stay_on_the_server_until_the_reveal_or_the_deadline(store):
    open_kaggle(store, days=2, reference_model=None)
    save_tiny_run("a1")
    scorer = ChosenScores({"a1": (0.51, 0.77)})
    result = competition.submit("fer-class", "a1", by=ANA, store=store, scorer=scorer, now=NOW)
    assert "private" not in " ".join(result.__dataclass_fields__) and 0.77 not in vars(result).values()
    assert competition.boards("fer-class", store, now=NOW + timedelta(days=1)).private is None
    assert "0.77" not in competition.export_csv("fer-class", store, now=NOW + timedelta(days=1))
    after_deadline = competition.boards("fer-class", store, now=NOW + timedelta(days=2))
    assert after_deadline.private[0].score == 0.77
    assert competition.hidden_splits("kaggle", store, now=NOW) == {"PrivateTest"}
    assert competition.hidden_splits("kaggle", store, now=NOW + timedelta(days=2)) == set()


def test_the_shipped_model_is_a_reference_line_on_both_boards(store):
    save_tiny_run("pretrained-tiny", pooled_softmax(seed=9))
    open_kaggle(store, scorer=ChosenScores({"pretrained-tiny": (0.41, 0.43)}))
    boards = competition.boards("fer-class", store, now=NOW)
    assert (boards.references[-1].label, boards.references[-1].score) == ("shipped model (pretrained-tiny)", 0.41)
    competition.reveal("fer-class", by=TEACHER, store=store, now=NOW)
    assert competition.boards("fer-class", store, now=NOW).private_references[-1].score == 0.43


def test_the_csv_export_holds_both_boards_for_grading(store):
    open_kaggle(store, reference_model=None)
    for run in ("a1", "b1"):
        save_tiny_run(run)
    scorer = ChosenScores({"a1": (0.5, 0.6), "b1": (0.7, 0.4)})
    competition.submit("fer-class", "a1", by=ANA, store=store, scorer=scorer, now=NOW)
    competition.submit("fer-class", "b1", by=BEN, store=store, scorer=scorer, now=NOW + timedelta(seconds=1))
    before = list(csv.DictReader(io.StringIO(competition.export_csv("fer-class", store, now=NOW))))
    assert [(row["student"], row["public_rank"], row["private_score"]) for row in before] == [
        ("Ben", "1", ""), ("Ana", "2", "")]
    competition.reveal("fer-class", by=TEACHER, store=store, now=NOW)
    after = list(csv.DictReader(io.StringIO(competition.export_csv("fer-class", store, now=NOW))))
    assert [(row["student"], row["private_rank"], row["private_score"], row["rank_change"]) for row in after] == [
        ("Ben", "2", "0.40000", "-1"), ("Ana", "1", "0.60000", "1")]


# --- the daily limit -----------------------------------------------------------------------------------


def test_over_the_daily_limit_a_student_learns_when_the_next_submission_opens(store):
    open_kaggle(store, limit=2, reference_model=None)
    save_tiny_run("a1")
    scorer = ChosenScores({"a1": (0.5, 0.5)})
    for hour in (0, 1):
        competition.submit("fer-class", "a1", by=ANA, store=store, scorer=scorer, now=NOW + timedelta(hours=hour))
    with pytest.raises(CompetitionError) as refused:
        competition.submit("fer-class", "a1", by=ANA, store=store, scorer=scorer, now=NOW + timedelta(hours=2))
    assert str(refused.value) == (
        "You have made 2 of your 2 submissions to fer-class today: the next one opens at 00:00 on Wed 25 Nov "
        "(UTC, server time)."
    )
    assert scorer.calls == 2  # refused before any scoring
    competition.submit("fer-class", "a1", by=BEN, store=store, scorer=scorer, now=NOW + timedelta(hours=2))
    tomorrow = competition.submit("fer-class", "a1", by=ANA, store=store, scorer=scorer, now=NOW + timedelta(hours=14))
    assert (tomorrow.used_today, tomorrow.daily_limit) == (1, 2)


def test_a_submission_that_cannot_be_scored_does_not_count(store):
    open_kaggle(store, limit=1, reference_model=None)
    save_tiny_run("a1")

    def broken(run, faces, halves, tta):
        raise competition.CompetitionError("the model broke")

    with pytest.raises(CompetitionError, match="the model broke"):
        competition.submit("fer-class", "a1", by=ANA, store=store, scorer=broken, now=NOW)
    competition.submit("fer-class", "a1", by=ANA, store=store, scorer=ChosenScores({"a1": (0.5, 0.5)}), now=NOW)


# --- a restart keeps everything ------------------------------------------------------------------------


def test_a_restart_keeps_every_board(tmp_path, store, monkeypatch):
    open_kaggle(store, reference_model=None)
    save_tiny_run("a1")
    competition.submit("fer-class", "a1", by=ANA, store=store, scorer=ChosenScores({"a1": (0.625, 0.5)}), now=NOW)
    competition.reveal("fer-class", by=TEACHER, store=store, now=NOW)
    again = competition.boards("fer-class", CompetitionStore(store.path), now=NOW)
    assert (again.public[0].student, again.public[0].best_score, again.private[0].score) == ("Ana", 0.625, 0.5)
    # Another process, as a restarted server would be, reads the same boards from the file.
    monkeypatch.setenv("FER_COMPETITIONS_FILE", str(store.path))
    shown = subprocess.run([sys.executable, "-m", "fer", "competition", "list", "fer-class"], cwd=REPO_ROOT,
                           capture_output=True, text=True, check=True).stdout
    assert re.search(r"1\s+Ana\s+0\.6250\s+1", shown) and re.search(r"1\s+Ana\s+0\.5000\s+1\s+\+0", shown)


# --- bad input gets a sentence -------------------------------------------------------------------------


def test_an_unknown_run_gets_a_sentence(store):
    open_kaggle(store, reference_model=None)
    with pytest.raises(CompetitionError, match=r"Cannot submit 'nobody-net': No run called 'nobody-net'"):
        competition.submit("fer-class", "nobody-net", by=ANA, store=store, now=NOW)


def test_a_competition_past_its_deadline_takes_no_submission(store):
    open_kaggle(store, days=1, reference_model=None)
    save_tiny_run("a1")
    with pytest.raises(CompetitionError, match="fer-class closed at Wed 25 Nov 2026 .*: it takes no more submissions"):
        competition.submit("fer-class", "a1", by=ANA, store=store, scorer=ChosenScores({}),
                           now=NOW + timedelta(days=1))


def test_a_data_set_without_labels_gets_a_sentence(store):
    np.savez(data.cache_path("unlabelled"), x=np.zeros((4, 48, 48), np.uint8), usage=np.array(["PublicTest"] * 4))
    with pytest.raises(ValueError, match="unlabelled.npz has no y array"):
        competition.open_competition("c", "unlabelled", by=TEACHER, deadline=NOW + timedelta(days=1), store=store,
                                     now=NOW)


@pytest.mark.parametrize(
    "arguments, sentence",
    [
        ({"dataset": "nowhere"}, "No data set called 'nowhere'"),
        ({"dataset": "old"}, "old has no PrivateTest faces (its splits: train, val, PublicTest)"),
        ({"halve": "train"}, "kaggle has no test split 'train' to cut in two: pick one of its test splits "
                             "(PublicTest, PrivateTest)"),
        ({"halve": "PublicTest", "dataset": "old"}, "Trainings on old report their accuracy on PublicTest"),
        ({"deadline": NOW - timedelta(minutes=1)}, "has already passed"),
        ({"daily_limit": 0}, "from 1 to 100; got 0"),
        ({"name": "../etc"}, "'../etc' is not a usable competition name"),
        ({"by": ANA}, "Only the teacher may open a competition; you are signed in as Ana"),
    ],
)
def test_bad_openings_get_a_sentence(store, arguments, sentence):
    write_kaggle_cache()
    np.savez(data.cache_path("old"), x=np.zeros((77, 48, 48), np.uint8), y=np.arange(77, dtype=np.uint8) % 7,
             usage=np.array(["Training"] * 70 + ["PublicTest"] * 7))
    options = {"name": "c", "dataset": "kaggle", "by": TEACHER, "deadline": NOW + timedelta(days=1), **arguments}
    with pytest.raises(ValueError) as refused:
        competition.open_competition(options.pop("name"), options.pop("dataset"), store=store, now=NOW,
                                     reference_model=None, **options)
    assert sentence in str(refused.value)


def test_students_submit_their_own_runs_and_only_the_teacher_reveals(store):
    open_kaggle(store, reference_model=None)
    save_tiny_run("bens-net", owner="Ben")
    save_tiny_run("pretrained-tiny")
    with pytest.raises(CompetitionError, match="bens-net is Ben's run: submit one of your own"):
        competition.submit("fer-class", "bens-net", by=ANA, store=store, scorer=ChosenScores({}), now=NOW)
    with pytest.raises(CompetitionError, match="the model shipped with the app"):
        competition.submit("fer-class", "pretrained-tiny", by=ANA, store=store, scorer=ChosenScores({}), now=NOW)
    with pytest.raises(CompetitionError, match="Only the teacher may reveal"):
        competition.reveal("fer-class", by=BEN, store=store, now=NOW)
    with pytest.raises(CompetitionError, match="no competition called 'other'"):
        competition.boards("other", store)
    with pytest.raises(CompetitionError, match="already a competition called 'fer-class'"):
        open_kaggle(store, reference_model=None)


def test_a_re_import_under_the_same_name_stops_submissions_with_a_sentence(store):
    open_kaggle(store, reference_model=None)
    save_tiny_run("a1")
    write_kaggle_cache(seed=7)
    with pytest.raises(CompetitionError, match="'kaggle' has changed since fer-class opened"):
        competition.submit("fer-class", "a1", by=ANA, store=store, scorer=ChosenScores({}), now=NOW)


def test_laptop_mode_opens_a_practice_round_on_public_test(store):
    write_kaggle_cache()
    you = Person("you", is_teacher=True)
    practice = competition.open_practice(you, "kaggle", store=store, now=NOW, scorer=ChosenScores({}))
    assert practice.practice and practice.name == "practice-kaggle"
    assert practice.halves == Halves("PublicTest", "PublicTest", 0)
    assert (practice.public_faces, practice.private_faces) == (35, 35)
    save_tiny_run("mine")
    result = competition.submit(practice.name, "mine", by=you, store=store, now=NOW)
    assert competition.boards(practice.name, store, now=NOW).public[0].best_score == result.public_score
    assert competition.open_practice(you, "kaggle", store=store, now=NOW).name == "practice-kaggle-2"


# --- the command line --------------------------------------------------------------------------------


def test_the_command_line_opens_submits_reveals_and_exports(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FER_COMPETITIONS_FILE", str(tmp_path / "cli.sqlite3"))
    write_kaggle_cache()
    save_tiny_run("ana-net", pooled_softmax(seed=3))
    assert main(["competition", "open", "cli-class", "--data", "kaggle", "--days", "3", "--per-day", "2"]) == 0
    assert "kaggle's PublicTest (70 faces) for the public board, PrivateTest (70) for the private one" in (
        capsys.readouterr().out)
    assert main(["competition", "submit", "cli-class", "--run", "ana-net", "--tta", "flip", "--student", "Ana"]) == 0
    submitted = capsys.readouterr().out
    public = cli_accuracy(capsys, "--model", "ana-net", "--data", "kaggle", "--split", "PublicTest", "--tta", "flip")
    assert f"public score {public} on PublicTest; 1 of 2 submissions used today" in submitted
    assert main(["competition", "list"]) == 0
    assert "cli-class\tkaggle\topen" in capsys.readouterr().out
    assert main(["competition", "export", "cli-class", "--out", str(tmp_path / "boards.csv")]) == 0
    assert "private columns are empty" in capsys.readouterr().err
    assert main(["competition", "reveal", "cli-class"]) == 0
    assert "Private board, scored on PrivateTest" in capsys.readouterr().out
    assert main(["competition", "export", "cli-class"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    row = rows[0]
    assert (row["student"], f"{float(row['public_score']):.4f}", row["private_rank"]) == ("Ana", public, "1")
    assert main(["competition", "submit", "nowhere", "--run", "ana-net"]) == 2
    assert "error: There is no competition called 'nowhere' (open ones: cli-class)." in capsys.readouterr().err


def test_the_cli_knows_the_same_tta_modes_as_fer_evaluate():
    from fer import evaluate
    from fer.commands.competition import TTA_CHOICES

    assert TTA_CHOICES == evaluate.TTA_MODES
