"""Kaggle's FER-2013 image folders: ROOT/train/<emotion>/*.png and ROOT/test/<emotion>/*.png.

The split folder gives the Usage (train -> Training; test -> MixedTest, since that release's test/
folder holds FER2013's PublicTest and PrivateTest together and nothing tells them apart; folders
named PublicTest and PrivateTest keep their names) and the class folder
the label; class folder names are matched without regard to case, with the common spellings of
other releases ("happiness", "surprised") meaning the same class.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import numpy as np

from fer.face_dataset import EMOTIONS, IMAGE_SIZE, MIXED_TEST, NUM_CLASSES, DataError
from fer.i18n import N_, _, format_integer, format_percent
from fer.importers.decode import IMAGE_SUFFIXES, MAX_IMAGE_BYTES, ImageTooLarge, decode_face
from fer.importers.found import BadRows, FoundFaces, Progress, hold_out_test_split
from fer.importers.tree import Tree

# Kaggle's image-folder release names its split folders train/ and test/.
SPLIT_FOLDERS = {
    "train": "Training",
    "training": "Training",
    "test": MIXED_TEST,
    "publictest": "PublicTest",
    "privatetest": "PrivateTest",
}
# Class folder names, lower case; the common spellings of other releases map to the same class.
CLASS_FOLDERS = {
    "angry": 0, "anger": 0,
    "disgust": 1, "disgusted": 1,
    "fear": 2, "fearful": 2,
    "happy": 3, "happiness": 3,
    "sad": 4, "sadness": 4,
    "surprise": 5, "surprised": 5,
    "neutral": 6,
}  # fmt: skip
IMAGE_FOLDERS = N_("image folders")  # the format's name in the import report
LAYOUT = "ROOT/train/<emotion>/*.png and ROOT/test/<emotion>/*.png, emotions " + ", ".join(
    emotion.lower() for emotion in EMOTIONS
)


def has_image_folders(tree: Tree) -> bool:
    return any(PurePosixPath(folder).name.lower() in SPLIT_FOLDERS for folder in tree.folders)


def read_image_folders(tree: Tree, label: str, skip_bad_rows: bool, progress: Progress | None) -> FoundFaces:
    """Every face image of the layout in `tree`; `label` names the folder or zip in sentences."""
    work = _images_to_read(tree, label)  # image path, label, usage
    problems = BadRows(label, skip_bad_rows)
    faces = np.zeros((len(work), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    kept = np.zeros(len(work), dtype=bool)
    from_colour = resized = 0
    for index, (path, _label, _usage) in enumerate(work):
        if tree.sizes.get(path, 0) > MAX_IMAGE_BYTES:  # not even read
            megabytes = format_integer(round(tree.sizes[path] / 1e6))
            problems.add(
                path, _("the file is {megabytes} MB, more than a face image needs").format(megabytes=megabytes),
                _("Delete it"), order=index,
            )
            continue
        try:
            with tree.files[path]() as stream:
                decoded = decode_face(stream.read(MAX_IMAGE_BYTES + 1))
        except ImageTooLarge as reason:
            problems.add(path, str(reason), _("Delete or shrink that file"), order=index)
            continue
        if decoded is None:
            problems.add(
                path, _("the file cannot be read as an image"), _("Delete or replace that file"), order=index
            )
            continue
        from_colour += decoded.was_colour
        resized += decoded.was_resized
        faces[index] = decoded.face
        kept[index] = True
        if progress and (index + 1) % 500 == 0:
            progress((index + 1) / len(work), _("Read {done} of {count} images").format(
                done=format_integer(index + 1), count=format_integer(len(work))
            ))
    if progress:
        progress(1.0, _("Read {count} images").format(count=format_integer(len(work))))
    notes = []
    if from_colour:
        notes.append(_("{count} colour images were converted to grayscale.").format(count=format_integer(from_colour)))
    if resized:
        notes.append(_(
            "{count} images were not 48x48 and were resized to 48x48 (the aspect ratio was not kept)."
        ).format(count=format_integer(resized)))
    labels = np.array([label_ for _, label_, _ in work], dtype=np.uint8)[kept]
    usage = np.array([usage for _, _, usage in work], dtype="<U11")[kept]
    if not any(usage_ != "Training" for _, _, usage_ in work):
        notes.append(_(
            "There is no test/ folder: a stratified {share} of the faces was held out as the test split."
        ).format(share=format_percent(0.1)))
    if not np.any(usage != "Training"):
        usage = hold_out_test_split(labels)
    return FoundFaces(IMAGE_FOLDERS, faces[kept], labels, usage, len(work), problems.in_order(), notes)


def _images_to_read(tree: Tree, label: str) -> list[tuple[str, int, str]]:
    """(image path, label, usage) for every image of the layout, after checking the layout is whole."""
    split_folders = [folder for folder in tree.folders if PurePosixPath(folder).name.lower() in SPLIT_FOLDERS]
    if not split_folders:
        raise DataError(
            _(
                "{source} has no fer2013.csv, no .npz and no train/ or test/ folder: the image layout is {layout}."
            ).format(source=label, layout=LAYOUT)
        )
    shallowest = min(len(PurePosixPath(folder).parts) for folder in split_folders)
    split_folders = sorted(f for f in split_folders if len(PurePosixPath(f).parts) == shallowest)
    if len({PurePosixPath(folder).parent for folder in split_folders}) > 1:
        raise DataError(
            _(
                "{source} has train/test folders in several places ({folders}): keep one copy laid out as {layout}."
            ).format(source=label, folders=", ".join(split_folders), layout=LAYOUT)
        )
    work = []
    for split_folder in split_folders:
        usage = SPLIT_FOLDERS[PurePosixPath(split_folder).name.lower()]
        class_folders = {
            PurePosixPath(folder).name: folder
            for folder in tree.folders
            if PurePosixPath(folder).parent == PurePosixPath(split_folder)
        }
        unknown = sorted(name for name in class_folders if name.lower() not in CLASS_FOLDERS)
        if unknown:
            raise DataError(
                _(
                    "{folder} has folder(s) {names} that name no FER2013 class: rename or remove them; "
                    "the layout is {layout}."
                ).format(folder=f"{label}/{split_folder}", names=", ".join(unknown), layout=LAYOUT)
            )
        present = {CLASS_FOLDERS[name.lower()] for name in class_folders}
        missing = [EMOTIONS[index].lower() for index in range(NUM_CLASSES) if index not in present]
        if missing:
            raise DataError(
                _("{folder} lacks the class folder(s) {names}: FER2013 has all seven; the layout is {layout}.").format(
                    folder=f"{label}/{split_folder}", names=", ".join(missing), layout=LAYOUT
                )
            )
        for name, folder in sorted(class_folders.items()):
            images = sorted(
                path
                for path in tree.files
                if PurePosixPath(path).parent == PurePosixPath(folder)
                and PurePosixPath(path).suffix.lower() in IMAGE_SUFFIXES
            )
            if not images:
                raise DataError(
                    _("{folder} is empty: put that class's face images (.png or .jpg) in it.").format(
                        folder=f"{label}/{folder}"
                    )
                )
            work.extend((path, CLASS_FOLDERS[name.lower()], usage) for path in images)
    return work
