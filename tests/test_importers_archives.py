"""Zips and .npz files are held to limits before anything is unpacked: a zip bomb is one sentence."""

import io
import zipfile

import numpy as np
import pytest

from fer import data, importers
from fer.data import DataError
from fer.importers import ImportLimits

NO_LIMITS_HIT = ImportLimits()


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def npz_bytes(compressed=False, **arrays) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def small_cache(count=12) -> dict:
    return {
        "x": np.arange(count * 48 * 48, dtype=np.uint8).reshape(count, 48, 48),
        "y": (np.arange(count) % 7).astype(np.uint8),
        "usage": np.array(["Training"] * (count - 2) + ["PublicTest"] * 2),
    }


def with_password_flag(content: bytes) -> bytes:
    """The same zip with every member marked as encrypted (Python's zipfile cannot write real ones)."""
    content = bytearray(content)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = content.find(signature)
        while start != -1:
            content[start + flag_offset] |= 0x1
            start = content.find(signature, start + 4)
    return bytes(content)


def damaged(content: bytes) -> bytes:
    """The same zip with one byte of its first member's data changed: its checksum no longer matches."""
    content = bytearray(content)
    content[content.find(b"emotion") + 500] ^= 0xFF
    return bytes(content)


def npy_announcing(shape, actual_bytes: int) -> bytes:
    """An .npy whose header announces `shape` of uint8 but which holds only `actual_bytes` of data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "|u1", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + bytes(actual_bytes)


REFUSED = {
    "zip-many-members": (
        lambda: zip_bytes({f"notes/{index}.txt": b"x" for index in range(30)}),
        "many.zip",
        ImportLimits(max_files=20),
        "many.zip holds 30 members, more than the 20 an import reads",
    ),
    "zip-too-big-unpacked": (
        lambda: zip_bytes({"fer2013.csv": bytes(3_000_000)}),
        "big.zip",
        ImportLimits(max_unpacked_bytes=2_000_000),
        "big.zip would unpack into 3 MB, more than the 2 MB an import unpacks",
    ),
    "zip-bomb": (
        lambda: zip_bytes({"fer2013.csv": bytes(20_000_000)}),
        "bomb.zip",
        NO_LIMITS_HIT,
        "times its packed size, more than 100 (FER2013 packs at most about 4 times): it is not FER2013",
    ),
    "zip-too-deep": (
        lambda: zip_bytes({"a/b/c/d/train/happy/1.png": b"x"}),
        "deep.zip",
        ImportLimits(max_depth=3),
        "deep.zip goes deeper than 3 folder levels",
    ),
    "zip-with-password": (
        lambda: with_password_flag(zip_bytes({"fer2013.csv": b"emotion,pixels,Usage\n"})),
        "locked.zip",
        NO_LIMITS_HIT,
        "locked.zip is protected by a password: zip the data set again without one",
    ),
    "npz-too-big": (
        lambda: npz_bytes(**small_cache()),
        "cache.npz",
        ImportLimits(max_unpacked_bytes=10_000),
        "cache.npz is 28,",
    ),
    "npz-bomb": (
        lambda: npz_bytes(compressed=True, x=np.zeros((2000, 48, 48), np.uint8), y=np.zeros(2000, np.uint8)),
        "cache.npz",
        NO_LIMITS_HIT,
        "cache.npz would unpack into",
    ),
    "npz-many-arrays": (
        lambda: npz_bytes(**small_cache(), **{f"extra{index}": np.zeros(1) for index in range(7)}),
        "cache.npz",
        NO_LIMITS_HIT,
        "cache.npz holds 10 members, more than the 8 an import reads",
    ),
    "npz-announcing-more-than-it-holds": (
        lambda: zip_bytes(
            {"x.npy": npy_announcing((10**9, 48, 48), 100), "y.npy": npy_announcing((3,), 3)},
            compression=zipfile.ZIP_STORED,
        ),
        "cache.npz",
        NO_LIMITS_HIT,
        "cache.npz is damaged: one of its arrays announces 2,304,000,000,000 bytes but holds",
    ),
    "npz-bomb-inside-a-zip": (
        lambda: zip_bytes(
            {"fer/cache.npz": npz_bytes(compressed=True, x=np.zeros((2000, 48, 48), np.uint8), y=np.zeros(2000))},
            compression=zipfile.ZIP_STORED,
        ),
        "upload.zip",
        NO_LIMITS_HIT,
        "upload.zip/fer/cache.npz would unpack into",
    ),
}


@pytest.mark.parametrize("make, filename, limits, message", REFUSED.values(), ids=REFUSED.keys())
def test_an_archive_beyond_the_limits_is_refused_before_it_is_unpacked(monkeypatch, make, filename, limits, message):
    content = make()
    unpacked = []
    real_open = zipfile.ZipFile.open

    def open_and_note(archive, member, *args, **kwargs):
        unpacked.append(member if isinstance(member, str) else member.filename)
        return real_open(archive, member, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", open_and_note)
    with pytest.raises(DataError) as error:
        importers.import_bytes(content, filename, limits=limits)
    assert message in str(error.value)
    if "announces" in message:
        assert unpacked == ["x.npy"]  # its header only: the lie shows before numpy allocates
    else:
        assert unpacked == [name for name in unpacked if name.endswith(".npz")], "a member was unpacked first"
    assert data.available_datasets() == [data.SYNTHETIC]


def test_a_damaged_zip_is_a_sentence():
    content = damaged(zip_bytes({"fer2013.csv": b"emotion,pixels,Usage\n" * 50}, compression=zipfile.ZIP_STORED))
    with pytest.raises(DataError, match="damaged.zip is a damaged zip .* zip the data set again"):
        importers.import_bytes(content, "damaged.zip")


def test_an_archive_just_within_the_limits_imports(tmp_path):
    cache = small_cache(14)
    content = zip_bytes({"class/cache.npz": npz_bytes(**cache)})
    members = 1
    exactly = ImportLimits(max_files=members, max_depth=1, max_unpacked_bytes=len(npz_bytes(**cache)))
    report = importers.import_bytes(content, "class.zip", limits=exactly)
    assert report.rows_imported == 14
    assert np.array_equal(data.load_dataset("class").images, cache["x"])


def test_a_compressed_cache_with_a_very_compressible_array_is_not_taken_for_a_bomb(tmp_path):
    """FER2013's own copy holds a 1.4 MB usage array that packs 333 times: the ratio is the whole archive's."""
    rng = np.random.default_rng(0)
    cache = {
        "x": rng.integers(0, 256, size=(2000, 48, 48), dtype=np.uint8),
        "y": (np.arange(2000) % 7).astype(np.uint8),
        "usage": np.array(["Training"] * 1800 + ["PublicTest"] * 200),
        "is_blank": np.zeros(300_000, dtype=np.int64),  # 2.4 MB that packs about a thousand times
    }
    report = importers.import_bytes(npz_bytes(compressed=True, **cache), "faces.npz")
    assert report.rows_imported == 2000
