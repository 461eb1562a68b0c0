"""The sample faces Home and Your data show: the right expression, the training split, the same for a seed."""

import numpy as np
import pytest

from fer.face_dataset import EMOTIONS, FaceDataset


def dataset_that_shows_where_each_face_is_from() -> FaceDataset:
    """Each face's brightness is its label, a corner its split; Disgust has 2 training faces, Fear none."""
    per_class = {0: 12, 1: 2, 2: 0, 3: 30, 4: 12, 5: 12, 6: 12}
    labels, splits = [], []
    for label, count in per_class.items():
        labels += [label] * (count + 3)
        splits += ["train"] * count + ["val", "test", "test"]
    labels = np.array(labels, dtype=np.uint8)
    splits = np.array(splits)
    images = np.zeros((len(labels), 48, 48), dtype=np.uint8) + (20 + 30 * labels)[:, None, None]
    images[:, 0, 0] = np.where(splits == "train", 0, 255)
    images[:, 47, 47] = np.arange(len(labels)) % 256  # every face different
    return FaceDataset("marked", images, labels, splits, synthetic=False, description="")


def test_samples_come_from_their_expression_and_the_training_split():
    samples = dataset_that_shows_where_each_face_is_from().samples(per_class=5, seed=1)
    assert [sample.emotion for sample in samples] == list(EMOTIONS)
    for label, sample in enumerate(samples):
        assert np.all(sample.images[:, 24, 24] == 20 + 30 * label), f"{sample.emotion} shows another expression"
        assert np.all(sample.images[:, 0, 0] == 0), f"{sample.emotion} shows a face from val or test"
    assert [sample.available for sample in samples] == [12, 2, 0, 30, 12, 12, 12]
    assert [len(sample.images) for sample in samples] == [5, 2, 0, 5, 5, 5, 5]


def test_the_same_seed_shows_the_same_faces_another_seed_others():
    dataset = dataset_that_shows_where_each_face_is_from()
    happy = [dataset.samples(per_class=5, seed=seed)[3].images for seed in (0, 0, 1)]
    assert np.array_equal(happy[0], happy[1])
    assert not np.array_equal(happy[0], happy[2])
    assert len({face.tobytes() for face in happy[0]}) == 5  # no face twice


@pytest.mark.parametrize("per_class", [0, -3])
def test_at_least_one_face_per_class_is_asked_for(per_class):
    with pytest.raises(ValueError, match="per_class must be at least 1"):
        dataset_that_shows_where_each_face_is_from().samples(per_class=per_class)
