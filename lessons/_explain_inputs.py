"""Widgets the three explanation pages share: the model in use and the face to explain.

A face comes from the data set (by class and index, or among the model's mistakes), from an
uploaded photo, or from a camera snapshot; photos go through `fer.faces.crop_face`, the same
crop the webcam export uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from fer import faces, registry
from fer.data import EMOTIONS
from fer.explain import ExplainError, enlarge, predict_classes
from fer.i18n import N_, _, expression, expressions, format_percent
from fer.urlstate import Field, UrlState
from lessons._shared import read_url_state, selected_dataset, selected_model_name, write_url_state

# The radio's values (ids that tests and session state use), in English; shown through _().
SOURCES = (N_("Data set image"), N_("A misclassified image"), N_("Upload a photo"), N_("Camera snapshot"))
DATA_SET_SOURCE = SOURCES[0]
# Expressions as a link names them: ?expression=happy&face=3 is the third Happy test face.
EXPRESSION_IDS = tuple(emotion.lower() for emotion in EMOTIONS)
FACE_FIELDS = (
    Field.choice("expression", EXPRESSION_IDS[0], EXPRESSION_IDS),
    Field.integer("face", 1, 1, 99_999),
)


@dataclass(frozen=True)
class ChosenFace:
    face: np.ndarray  # (48, 48) uint8
    label: int | None  # the data set's label, when the face comes from it
    caption: str


@st.cache_resource(show_spinner=False, max_entries=4)
def _cached_model(name: str, _modified: float):
    return registry.load_model(name)


def _load_model(name: str, modified: float):
    with st.spinner(_("Loading the model...")):
        return _cached_model(name, modified)


def model_file(name: str):
    return registry.run_path(name) / registry.MODEL_FILE


def selected_model():
    """(run name, Keras model), or None after telling the student what to do."""
    name = selected_model_name()
    if name is None:
        st.info(
            _(
                "There is no trained model yet, so there is nothing to explain. Train one on the "
                "**Train a network** page (the small CNN learns the synthetic faces in about a minute), "
                "then come back: this page will use it."
            )
        )
        return None
    run = registry.read_run(name)
    if run.kind != "keras":
        st.warning(
            _(
                "**{name}** is an ensemble of several models; explanations need one network. "
                "Pick a single model in the sidebar."
            ).format(name=name)
        )
        return None
    try:
        path = model_file(name)
        model = _load_model(name, path.stat().st_mtime if path.exists() else 0.0)
    except registry.RegistryError as error:
        st.error(str(error))
        return None
    if tuple(model.input_shape[1:]) != (48, 48, 1):
        st.error(
            _("**{name}** takes inputs of shape {shape}, not 48x48 grayscale faces.").format(
                name=name, shape=model.input_shape[1:]
            )
        )
        return None
    return name, model


def _split_images(split: str):
    dataset = selected_dataset()
    images, labels = dataset.split(split)
    if len(images) == 0:
        images, labels = dataset.images, dataset.labels
    return dataset, images, labels


@st.cache_data(show_spinner=False, max_entries=8)
def _predictions(model_name: str, _model, dataset_name: str, split: str, modified: float, count: int):
    images = _split_images(split)[1]
    return predict_classes(_model, images)


def _face_from_photo(data: bytes, what: str) -> ChosenFace | None:
    try:
        result = faces.crop_face(data)
    except faces.FaceImageError as error:
        st.error(str(error))
        return None
    if not result.found:
        st.warning(result.message)
        st.image(result.annotated, caption=_("What the detector searched"), width=360)
        return None
    left, right = st.columns([3, 1])
    left.image(result.annotated, caption=result.message, width=360)
    right.image(enlarge(result.face, 3), caption=_("The 48x48 face the model sees"))
    return ChosenFace(result.face, None, what)


def choose_face(model_name: str, model, key: str, sources=SOURCES) -> ChosenFace | None:
    """Widgets to pick one face; None (with a message) until there is one."""
    source_labels = {source: _(source) for source in sources}
    source = st.radio(
        _("Face to explain"), sources, format_func=source_labels.__getitem__, horizontal=True, key=f"{key}_source"
    )
    names = expressions()
    if source == DATA_SET_SOURCE:
        dataset, images, labels = _split_images("test")
        left, right = st.columns(2)
        emotion = left.selectbox(
            _("Expression"), range(len(EMOTIONS)), format_func=names.__getitem__, key=f"{key}_class"
        )
        indices = np.flatnonzero(labels == emotion)
        if len(indices) == 0:
            st.warning(
                _("The {dataset} test split has no {expression} faces: pick another expression.").format(
                    dataset=dataset.name, expression=names[emotion]
                )
            )
            return None
        asked = st.session_state.get(f"{key}_index", 1)
        if asked > len(indices):  # a link can ask for more faces than this data set has
            too_far = _("The {dataset} test split has {count} {expression} faces, not {asked}: showing the first one.")
            st.warning(too_far.format(dataset=dataset.name, count=len(indices), expression=names[emotion], asked=asked))
            st.session_state[f"{key}_index"] = 1
        number = right.number_input(
            _("Which one (1 to {count})").format(count=len(indices)),
            min_value=1, max_value=len(indices), key=f"{key}_index",
        )
        index = int(indices[int(number) - 1])
        caption = _("{dataset} test face #{index}: {expression}").format(
            dataset=dataset.name, index=index, expression=names[emotion]
        )
        return ChosenFace(images[index], int(labels[index]), caption)

    if source == SOURCES[1]:
        dataset, images, labels = _split_images("test")
        path = model_file(model_name)
        running = _("Running {model} on {count} test faces...").format(model=model_name, count=f"{len(images):,}")
        with st.spinner(running):
            predicted = _predictions(
                model_name, model, dataset.name, "test", path.stat().st_mtime if path.exists() else 0.0, len(images)
            )[1]
        wrong = np.flatnonzero(predicted != labels)
        if len(wrong) == 0:
            st.success(
                _("{model} gets every test face of {dataset} right: nothing misclassified to show.").format(
                    model=model_name, dataset=dataset.name
                )
            )
            return None
        number = st.number_input(
            _("Mistake number (1 to {count}; {percent} of the test faces are wrong)").format(
                count=len(wrong), percent=format_percent(len(wrong) / len(labels))
            ),
            min_value=1, max_value=len(wrong), value=1, key=f"{key}_wrong",
        )
        index = int(wrong[int(number) - 1])
        caption = _("{dataset} test face #{index}: really {truth}, the model says {said}").format(
            dataset=dataset.name, index=index, truth=expression(labels[index]), said=expression(predicted[index])
        )
        return ChosenFace(images[index], int(labels[index]), caption)

    if source == SOURCES[2]:
        upload = st.file_uploader(
            _("A photo with a face (PNG or JPEG)"), type=["png", "jpg", "jpeg"], key=f"{key}_upload"
        )
        if upload is None:
            st.caption(_("The photo stays on this server's memory for this page only."))
            return None
        return _face_from_photo(upload.getvalue(), _("uploaded photo {name}").format(name=upload.name))

    snapshot = st.camera_input(_("Take a snapshot"), key=f"{key}_camera")
    if snapshot is None:
        return None
    return _face_from_photo(snapshot.getvalue(), _("camera snapshot"))


def data_set_face_in_url(key: str) -> dict:
    """The expression and face number the face widgets of `key` show, as a link names them.

    A photo or a mistake cannot go into a link, so for those the face fields keep their defaults.
    """
    if st.session_state.get(f"{key}_source") != DATA_SET_SOURCE:
        return {field.name: field.default for field in FACE_FIELDS}
    return {
        "expression": EXPRESSION_IDS[int(st.session_state.get(f"{key}_class", 0))],
        "face": int(st.session_state.get(f"{key}_index", 1)),
    }


def face_widgets_from_url(key: str, values: dict) -> None:
    """Set the face widgets of `key` to the data set face a link names (before they are drawn)."""
    st.session_state[f"{key}_source"] = DATA_SET_SOURCE
    st.session_state[f"{key}_class"] = EXPRESSION_IDS.index(values["expression"])
    st.session_state[f"{key}_index"] = values["face"]


def follow_url(state: UrlState, key: str) -> dict | None:
    """The page's state from its URL when the URL changed since this session last saw it, else None.

    Bad values become warnings (and defaults). The page then puts the values into its widgets;
    on later runs the widgets lead and `keep_in_url` writes them back, so a link follows the page.
    """
    values = read_url_state(state)
    seen = state.encode(values)
    if st.session_state.get(f"{key}_url_seen") == seen:
        return None
    st.session_state[f"{key}_url_seen"] = seen
    return values


def keep_in_url(state: UrlState, key: str, values: dict) -> None:
    """Write the page's state into its URL, and remember it as seen so it is not read back as a new link."""
    write_url_state(state, values)
    st.session_state[f"{key}_url_seen"] = state.encode(values)


def show_error(error: Exception) -> None:
    """Explain errors are sentences for the student; anything else is a bug worth its type."""
    if isinstance(error, (ExplainError, registry.RegistryError, ValueError)):
        st.error(str(error))
    else:
        st.error(f"{type(error).__name__}: {error}")  # a bug: its type and message, as Python wrote them
