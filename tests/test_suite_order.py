"""The suite's own schedule: the long files start first (tests/conftest.py), so two workers end together."""

from tests.conftest import REPO_ROOT, STARTED_FIRST


def test_every_file_started_first_exists():
    missing = [name for name in STARTED_FIRST if not (REPO_ROOT / "tests" / name).exists()]
    assert not missing, f"tests/conftest.py STARTED_FIRST names files that are gone: {missing}"


def test_make_test_keeps_the_collection_order():
    """Without --no-loadscope-reorder, xdist sends the files with the most tests first, whatever conftest says."""
    recipe = (REPO_ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--dist loadfile" in recipe and "--no-loadscope-reorder" in recipe
