"""Your data: what FER2013 is, how to bring it in, and a look at the data set in use."""

import shutil
import tempfile
from pathlib import Path

import altair as alt
import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from fer import data, importers, permissions
from fer.i18n import _, expression, expressions, format_integer, format_percent
from fer.importers.limits import in_megabytes
from lessons._identity import STUDENT, accounts, class_settings, current_user
from lessons._language import chart, page_language
from lessons._shared import (
    class_counts_frame,
    dataset_delete_form,
    select_dataset,
    selected_dataset,
    show_sample_faces,
    split_order,
)

REPORT_KEY = "data_page_report"
FAILED_KEY = "data_page_failed"  # (source kind, error sentence, a bad row?) of the last import that stopped
# An upload waits for its import as a file on disk, never as bytes in the session: a class of
# students each holding a 290 MB CSV would hold gigabytes. The uploader starts empty again each time.
WAITING_UPLOAD_KEY = "data_upload_on_disk"  # {"name", "size", "path", "folder"} of the upload to import
UPLOADER_VERSION_KEY = "data_uploader_version"
COPY_CHUNK_BYTES = 1 << 20
SAMPLES_PER_CLASS = 10

page_language()
# On a class server a browser names no server path, except below the folders the teacher lists.
user = current_user()
settings = class_settings()
server_paths_open = not settings.class_mode or bool(settings.allowed_folders)

st.title(_("Your data"))
st.markdown(
    _(
        "**FER2013** is the data set this course is built around: 35,887 grayscale photographs of faces, "
        "48x48 pixels, each labelled with one of seven expressions ({expressions}). It was collected with "
        "Google image searches for the ICML 2013 \"Challenges in Representation Learning\" contest "
        "(Goodfellow et al., 2013). It comes with its own split: **Training** 28,709 faces, **PublicTest** "
        "3,589 and **PrivateTest** 3,589. Humans agree with its labels only about {agreement} of the time, and "
        "{disgust} has just 547 faces: both will show in your results."
    ).format(
        expressions=_(", ").join(f"{label} {name}" for label, name in enumerate(expressions())),
        disgust=expression("Disgust"), agreement=format_percent(0.65),
    )
)

with st.expander(_("How to get FER2013"), expanded=False):
    zip_folders = (
        _("Zip the folder that holds `train/` and `test/`, or give its path.") if server_paths_open
        else _("Zip the folder that holds `train/` and `test/`.")
    )
    st.markdown(
        _(
            "FER2013 is not shipped with this app: you download it yourself from Kaggle (free account, "
            "accept the rules) in either of its two forms, then import it below or from a terminal.\n\n"
            "- **The CSV** from the contest page *Challenges in Representation Learning: Facial Expression "
            "Recognition Challenge*: `fer2013.csv` with the columns `emotion,pixels,Usage`, one face per line "
            "as 2,304 numbers. `train.csv` (no Usage) and `icml_face_data.csv` work too; the zip of the "
            "whole contest download works as it is.\n"
            "- **The image folders** from the data set *FER-2013*: `train/<expression>/*.png` and "
            "`test/<expression>/*.png`, folder names `angry, disgust, fear, happy, neutral, sad, surprise`. "
            "{zip_folders}\n\n"
            "From a terminal: `python -m fer data import ~/Downloads/fer2013.csv`, then "
            "`python -m fer data list`. Importing converts once into a fast cache; after that the data set "
            "appears in the sidebar of every page."
        ).format(zip_folders=zip_folders)
    )

# --- import ---------------------------------------------------------------------------------

st.header(_("Import FER2013"))


def run_import(kind: str, start_import) -> None:
    """Run one import with a progress bar; keep the report, or the error sentence, for the page."""
    refused = import_refusal(source_name)
    if refused:
        st.session_state[FAILED_KEY] = (kind, refused, False)
        st.session_state.pop(REPORT_KEY, None)
        return
    bar = st.progress(0.0, text=_("Starting the import..."))
    try:
        report = start_import(lambda fraction, message: bar.progress(min(1.0, fraction), text=message))
    except (data.DataError, OSError) as error:
        bar.empty()
        st.session_state[FAILED_KEY] = (kind, str(error), isinstance(error, importers.BadRowError))
        st.session_state.pop(REPORT_KEY, None)
        return
    bar.empty()
    if settings.class_mode:
        accounts().record_dataset(report.dataset_name, user.name)
    st.session_state[REPORT_KEY] = report
    st.session_state.pop(FAILED_KEY, None)
    st.rerun()  # so the sidebar lists the new data set


if server_paths_open:
    upload_tab, path_tab = st.tabs([_("Upload a file"), _("A file or folder on this server")])
else:
    upload_tab, path_tab = st.container(), None


def forget_waiting_upload() -> None:
    waiting = st.session_state.pop(WAITING_UPLOAD_KEY, None)
    if waiting is not None:
        waiting["folder"].cleanup()


def keep_upload_on_disk(upload, limit_megabytes: int) -> None:
    """Copy an upload into a private temporary folder a megabyte at a time, then drop its bytes from memory.

    The folder goes when the upload is imported, replaced, or forgotten with the session. `TMPDIR`
    decides where it lies: on a server whose /tmp is in memory (tmpfs), point it at a disk.
    """
    forget_waiting_upload()
    folder = tempfile.TemporaryDirectory(prefix="fer-upload-")
    path = Path(folder.name) / (Path(upload.name).name.lstrip(".") or "upload")  # the importer reads its suffix
    try:
        limit = limit_megabytes * 1_000_000
        if upload.size > limit:
            raise data.DataError(
                _("{file} is {size}, over this server's upload limit of {limit} MB: zip it, or ask the teacher "
                  "to import it.").format(file=upload.name, size=in_megabytes(upload.size), limit=limit_megabytes)
            )
        free = shutil.disk_usage(folder.name).free
        if free < 2 * upload.size:
            raise data.DataError(
                _("{file} does not fit: the server has {free} free for uploads. Ask the teacher to make room, "
                  "or to import the file for the class.").format(file=upload.name, free=in_megabytes(free))
            )
        upload.seek(0)
        with path.open("wb") as copy:
            while chunk := upload.read(COPY_CHUNK_BYTES):
                copy.write(chunk)
    except (data.DataError, OSError) as error:
        folder.cleanup()
        st.session_state[FAILED_KEY] = ("upload", str(error) if isinstance(error, data.DataError) else
                                        _("{file} could not be kept for the import ({reason}).").format(
                                            file=upload.name, reason=error.strerror or error), False)
        st.session_state.pop(REPORT_KEY, None)
    else:
        st.session_state[WAITING_UPLOAD_KEY] = {"name": upload.name, "size": upload.size, "path": path,
                                                "folder": folder}
        st.session_state.pop(FAILED_KEY, None)
    finally:
        context = get_script_run_ctx()
        if context is not None:  # Streamlit keeps every upload in memory until the session ends: not this one
            context.uploaded_file_mgr.remove_file(context.session_id, upload.file_id)
        st.session_state[UPLOADER_VERSION_KEY] = st.session_state.get(UPLOADER_VERSION_KEY, 0) + 1


with upload_tab:
    upload_limit = st.get_option("server.maxUploadSize")
    uploaded = st.file_uploader(
        _("fer2013.csv, a .zip of it or of the train/ and test/ folders, or an .npz cache"),
        type=["csv", "zip", "npz"],
        key=f"data_upload_{st.session_state.get(UPLOADER_VERSION_KEY, 0)}",
    )
    if uploaded is not None:
        keep_upload_on_disk(uploaded, upload_limit)
        st.rerun()  # with an empty uploader: the file is below, ready
    waiting_upload = st.session_state.get(WAITING_UPLOAD_KEY)
    if waiting_upload is not None:
        st.markdown(_("Ready to import: **{file}** ({size}).").format(
            file=waiting_upload["name"], size=in_megabytes(waiting_upload["size"])
        ))
    upload_limit_sentence = (
        _("Uploads are limited to {limit} MB here. fer2013.csv is about 290 MB: zip it first (about 80 MB) "
          "or give its path in the other tab.") if server_paths_open
        else _("Uploads are limited to {limit} MB here. fer2013.csv is about 290 MB: zip it first (about 80 MB).")
    )
    st.caption(upload_limit_sentence.format(limit=upload_limit))
    upload_clicked = st.button(_("Import the upload"), disabled=waiting_upload is None, key="data_import_upload")
server_path, path_clicked = "", False
if path_tab is not None:
    with path_tab:
        if settings.class_mode:
            st.caption(_("On this class server, files and folders below {folders} only.").format(
                folders=_(", ").join(f"`{folder}`" for folder in settings.allowed_folders)
            ))
        server_path = st.text_input(
            _("Path"), placeholder=str(settings.allowed_folders[0] / "fer2013.csv") if settings.class_mode
            else "/home/me/Downloads/fer2013.csv", key="data_path",
            help=_("A .csv, .zip or .npz file, or a folder holding train/ and test/."),
        ).strip()
        path_clicked = st.button(_("Import from the path"), disabled=not server_path, key="data_import_path")

source_name = waiting_upload["name"] if waiting_upload is not None else server_path
name_column, skip_column = st.columns([2, 1], vertical_alignment="bottom")
name = name_column.text_input(
    _("Name in the app (optional)"),
    placeholder=importers.dataset_name_for(source_name) if source_name else "fer2013",
    key="data_name",
    help=_("Left empty, the file's name is used. Importing again under the same name replaces the earlier import."),
).strip() or None
skip_bad_rows = skip_column.checkbox(
    _("Skip bad rows"),
    key="data_skip",
    help=_(
        "Leave out rows with wrong pixels, labels or Usage (and unreadable images), and count "
        "them in the report, instead of stopping at the first one."
    ),
)


def import_refusal(source: str) -> str | None:
    """On a class server a student may not replace a data set someone else imported."""
    if user.role != STUDENT:
        return None
    target = name or importers.dataset_name_for(source)
    if target not in data.available_datasets():
        return None
    owner = accounts().dataset_owner(target)
    if owner == user.name:
        return None
    if owner:
        return _("A data set called {name} is already here, imported by {owner}: type another name in the app "
                 "to import yours beside it.").format(name=target, owner=owner)
    return _("A data set called {name} is already here, imported by the teacher: type another name in the app "
             "to import yours beside it.").format(name=target)


def import_upload(skip: bool) -> None:
    def from_the_copy_on_disk(progress):
        report = importers.import_path(waiting_upload["path"], name=name, skip_bad_rows=skip, progress=progress)
        forget_waiting_upload()  # imported: the copy is no longer needed (a failed import keeps it for a retry)
        return report

    run_import("upload", from_the_copy_on_disk)


def import_server_path(skip: bool) -> None:
    path = server_path
    if settings.class_mode:
        try:
            path = str(permissions.allowed_server_path(server_path, settings.allowed_folders))
        except permissions.NotAllowed as error:
            st.session_state[FAILED_KEY] = ("path", str(error), False)
            st.session_state.pop(REPORT_KEY, None)
            return
    run_import(
        "path",
        lambda progress: importers.import_path(path, name=name, skip_bad_rows=skip, progress=progress),
    )


if upload_clicked:
    import_upload(skip_bad_rows)
if path_clicked:
    import_server_path(skip_bad_rows)

failed = st.session_state.get(FAILED_KEY)
if failed:
    kind, sentence, row_problem = failed
    st.error(sentence)
    if row_problem and not skip_bad_rows:
        st.markdown(_("Fix the file, or leave such rows out and see how many there were:"))
        if st.button(_("Import again, skipping bad rows"), key="data_retry_skipping"):
            if kind == "upload" and waiting_upload is not None:
                import_upload(skip=True)
            elif kind == "path" and server_path:
                import_server_path(skip=True)

report = st.session_state.get(REPORT_KEY)
if report is not None:
    st.success(report.lines()[0])
    if report.rows_skipped:
        st.warning(
            _("{skipped} of {read} rows were bad and left out. The first: {examples}.").format(
                skipped=format_integer(report.rows_skipped), read=format_integer(report.rows_read),
                examples=_("; ").join(report.skipped_examples),
            )
        )
    st.markdown("\n".join(f"- {line}" for line in report.lines()[1:]))
    if selected_dataset().name != report.dataset_name:
        st.button(
            _("Use {name} on every page").format(name=report.dataset_name),
            key="data_use_imported",
            on_click=select_dataset,
            args=(report.dataset_name,),
            type="primary",
        )
        st.caption(_("Or choose it under *Data set* in the sidebar at any time."))

# --- the data set in use ----------------------------------------------------------------------

dataset = selected_dataset()
st.header(_("The data set in use: {name}").format(name=dataset.name))
if dataset.synthetic:
    st.warning(
        _(
            "These are **synthetic faces**: cartoons the app draws itself (brows, eyes and mouth set "
            "for each expression, then random pose, lighting and noise), so every lesson works on a "
            "fresh machine. They are not photographs, and a model trained on them will not read real "
            "faces. Import FER2013 above for that."
        )
    )
st.caption(dataset.describe())

per_split = class_counts_frame(dataset)
splits_shown = split_order(dataset)
st.subheader(_("How many faces of each expression"))
st.altair_chart(
    chart(
        alt.Chart(per_split)
        .mark_bar()
        .encode(
            x=alt.X("expression:N", sort=expressions(), title=None),
            y=alt.Y("faces:Q", title=_("faces")),
            color=alt.Color("split:N", sort=splits_shown, title=_("split")),
            column=alt.Column("split:N", sort=splits_shown, title=None),
            tooltip=[
                alt.Tooltip("split:N", title=_("split")),
                alt.Tooltip("expression:N", title=_("expression")),
                alt.Tooltip("faces:Q", title=_("faces")),
            ],
        )
        .properties(width=220, height=220)
        .resolve_scale(y="independent")  # each split's own scale, so its imbalance shows
    ),
)
totals = per_split.pivot_table(index="expression", columns="split", values="faces", aggfunc="sum")
totals = totals.reindex(index=expressions(), columns=splits_shown)
totals = totals.rename_axis(index=_("expression"), columns=_("split"))
st.dataframe(totals, width="content")
smallest = expression(int(np.argmin(dataset.class_counts("train"))))
if not dataset.synthetic:
    st.markdown(
        _(
            "The classes are far from balanced: **{expression}** has the fewest training faces. A model "
            "can score well by mostly answering the big classes, which is why the later lessons look "
            "at per-class accuracy and the confusion matrix, not only overall accuracy."
        ).format(expression=smallest)
    )
st.markdown(
    _(
        "The **validation** split is a stratified tenth of Training that training uses to pick the best "
        "epoch; the test split (FER2013's **PublicTest**, or the image-folder release's **test**, public "
        "and private mixed) is kept for the final score, and **PrivateTest** for a class competition's "
        "private leaderboard."
    )
)

st.subheader(_("Sample faces per expression"))
shuffle_seed = st.number_input(_("Draw other samples (seed)"), min_value=0, value=0, step=1, key="data_sample_seed")
show_sample_faces(dataset, SAMPLES_PER_CLASS, seed=int(shuffle_seed))

st.subheader(_("Delete a data set"))
dataset_delete_form("data_delete_dataset")
