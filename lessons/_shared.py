"""What every page shares: the sidebar (data set and model in use) and cached loaders.

Pages ask `selected_dataset()`, `selected_model_name()` and `visible_runs()`; only this module
knows the session-state keys behind them.
"""

import pandas as pd
import streamlit as st

from fer import data, permissions, registry
from fer.i18n import _, expression, format_integer, ngettext
from fer.urlstate import UrlState
from lessons._identity import LAPTOP, STUDENT, accounts, current_user, sees_others_runs, sign_out, signed_in_user
from lessons._language import page_language

DATASET_KEY = "sidebar_dataset"
MODEL_KEY = "sidebar_model"


# Loaded data sets shared by every session of this server: FER2013 takes about 85 MB in memory.
DATASET_CACHE_ENTRIES = 4
DATASET_CACHE_BYTES = 1 << 30


@st.cache_resource
def dataset_cache() -> data.DatasetCache:
    """One bounded cache for the whole server; a re-import replaces its data set's entry (fer.data.DatasetCache)."""
    return data.DatasetCache(max_entries=DATASET_CACHE_ENTRIES, max_bytes=DATASET_CACHE_BYTES)


def selected_dataset() -> data.FaceDataset:
    name = st.session_state.get(DATASET_KEY) or data.available_datasets()[0]
    cache = dataset_cache()
    if cache.is_loaded(name):
        return cache.get(name)
    with st.spinner(_("Loading the data set...")):
        return cache.get(name)


def class_counts_frame(dataset: data.FaceDataset) -> pd.DataFrame:
    """Faces per expression and split, one row each (expression, split, faces), for charts.

    Expressions and splits in the reader's language: splits go by what pages call them (train,
    validation (10 % of Training), PublicTest, PrivateTest, test (public and private mixed)), in
    the data set's order: `split_order(dataset)`; expressions in label order: `expressions()`.
    """
    return pd.DataFrame(
        [
            {"expression": expression(emotion), "split": split_name(dataset, split), "faces": int(count)}
            for split in dataset.split_names
            for emotion, count in zip(data.EMOTIONS, dataset.class_counts(split))
        ]
    )


def split_name(dataset: data.FaceDataset, split: str) -> str:
    """What pages call one of the data set's splits, in the reader's language (names such as PublicTest stay)."""
    return data.shown_split_label(dataset.split_label(split))


def split_order(dataset: data.FaceDataset) -> list[str]:
    """The labels of `class_counts_frame`'s splits, in the order charts and tables show them."""
    return [split_name(dataset, split) for split in dataset.split_names]


def dataset_delete_form(key: str) -> None:
    """Delete an imported data set: whoever imported it may, and the teacher (laptop: its one user)."""
    user = current_user()
    roster = accounts()
    deletable = [name for name in data.available_datasets() if name != data.SYNTHETIC
                 and permissions.dataset_refusal(user, name, roster.dataset_owner(name)) is None]
    if f"{key}_error" in st.session_state:
        st.error(st.session_state.pop(f"{key}_error"))
    if not deletable:
        st.caption(_("No imported data set here is yours to delete."))
        return

    def delete(name: str) -> None:  # a callback: it runs before the widgets, so it may untick the box
        page_language()  # and before the page, so its sentences need the language decided here too
        st.session_state[f"{key}_confirm"] = False
        try:
            permissions.check_dataset(user, name, roster.dataset_owner(name))
            data.delete_dataset(name)
        except ValueError as error:
            st.session_state[f"{key}_error"] = str(error)
        else:
            roster.forget_dataset(name)  # the sidebar falls back to the synthetic set if it was in use

    chosen_column, confirm_column, button_column = st.columns([2, 2, 1], vertical_alignment="bottom")
    chosen = chosen_column.selectbox(_("Data set to delete"), deletable, key=f"{key}_name")
    confirm = confirm_column.checkbox(_("Yes, delete {name}").format(name=chosen), key=f"{key}_confirm",
                                      help=_("Runs trained on it keep their files and scores."))
    button_column.button(_("Delete"), disabled=not confirm, key=f"{key}_button", on_click=delete, args=(chosen,))


def show_sample_faces(dataset: data.FaceDataset, per_class: int, seed: int = 0) -> None:
    """One row per expression: its name, how many training faces it has, and a few of them."""
    for sample in dataset.samples(per_class, seed=seed):
        label_column, faces_column = st.columns([1, 9])
        faces = ngettext("{count} face", "{count} faces", sample.available).format(
            count=format_integer(sample.available)
        )
        label_column.markdown(f"**{expression(sample.emotion)}**  \n{faces}")
        if sample.available:
            faces_column.image(list(sample.images), width=64)
        else:
            faces_column.caption(_("No training faces of this expression."))


def select_dataset(name: str) -> None:
    """Make `name` the data set of every page; use it as a button's on_click (before the sidebar renders)."""
    st.session_state[DATASET_KEY] = name


def visible_runs() -> list[registry.RunInfo]:
    """The runs this user may look at, newest first: all of them, except that on a class server
    whose teacher hides students' runs from each other, a student sees their own and the shipped ones."""
    runs = registry.list_runs()
    if sees_others_runs():
        return runs
    name = current_user().name
    return [run for run in runs if run.shipped or run.owner == name]


def _default_model_name(runs: list[registry.RunInfo]) -> str | None:
    """The user's newest run: a student's own, else a shipped one; on a laptop any but a shipped one."""
    user = current_user()
    if user.role == STUDENT:
        preferred = [run for run in runs if run.owner == user.name] or [run for run in runs if run.shipped]
    else:
        preferred = [run for run in runs if not run.shipped]
    return (preferred or runs)[0].name if runs else None


def selected_model_name() -> str | None:
    chosen = st.session_state.get(MODEL_KEY)
    runs = visible_runs()
    if chosen in [run.name for run in runs]:
        return chosen
    return _default_model_name(runs)


def render_sidebar() -> None:
    with st.sidebar:
        user = signed_in_user()
        if user is not None and user.role != LAPTOP:
            who, button = st.columns([3, 2], vertical_alignment="center")
            signed_in = _("Signed in as **{name}** (teacher)") if user.is_teacher else _("Signed in as **{name}**")
            who.markdown(signed_in.format(name=user.name))
            button.button(_("Sign out"), key="sidebar_sign_out", on_click=sign_out)
        st.subheader(_("In use on every page"))
        datasets = data.available_datasets()
        if st.session_state.get(DATASET_KEY) not in datasets:
            st.session_state[DATASET_KEY] = datasets[0]
        dataset_labels = {name: name for name in datasets} | {data.SYNTHETIC: _("Synthetic faces (built in)")}
        st.selectbox(_("Data set"), datasets, key=DATASET_KEY, format_func=dataset_labels.__getitem__)
        if st.session_state[DATASET_KEY] == "synthetic":
            st.caption(
                _("Drawn faces, not real photos. Bring FER2013 on the **Your data** page to train on real faces.")
            )

        runs = visible_runs()
        if runs:
            names = [run.name for run in runs]
            default = _default_model_name(runs)
            if st.session_state.get(MODEL_KEY) not in names:
                st.session_state[MODEL_KEY] = default if default in names else names[0]
            st.selectbox(_("Model"), names, key=MODEL_KEY)
        else:
            st.caption(_("No trained model yet: train one on the **Train a network** page."))


def read_url_state(state: UrlState) -> dict:
    """The page's state as its URL gives it (defaults where it gives none); bad values become warnings."""
    values, problems = state.decode(st.query_params.to_dict())
    for problem in problems:
        st.warning(problem)
    return values


def write_url_state(state: UrlState, values: dict) -> None:
    """Put the page's state into its URL (only what differs from the defaults), leaving other parameters."""
    wanted = state.encode(values)
    for field in state.fields:
        if field.name in wanted:
            if st.query_params.get(field.name) != wanted[field.name]:
                st.query_params[field.name] = wanted[field.name]
        elif field.name in st.query_params:
            del st.query_params[field.name]
