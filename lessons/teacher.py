"""Your class, the teacher's page: the roster and its codes, what students see, every training, who trained what."""

import datetime

import pandas as pd
import streamlit as st

from fer import data, jobs, permissions, registry
from fer.accounts import AccountError
from fer.i18n import _, format_datetime, pgettext
from lessons._identity import TEACHER, accounts, class_settings, current_user
from lessons._language import page_language
from lessons._shared import dataset_delete_form

CODES_KEY = "teacher_new_codes"  # {name: code} of the students just added: shown once, never stored in clear
REFRESH_SECONDS = 3.0

page_language()
user = current_user()
if user.role != TEACHER:
    st.error(_("This page is the teacher's: sign in as the teacher to see it."))
    st.stop()
roster = accounts()

st.title(_("Your class"))
st.markdown(
    _(
        "Each student signs in with their name and a code made here. The codes are shown **once**: "
        "print them or hand them out now. The server keeps only a salted hash of each, so a lost code "
        "cannot be looked up, only replaced by a new one."
    )
)


def when(seconds: float | None) -> str:
    """A moment in the server's time zone, as the reader's language writes dates; "never" for none."""
    if not seconds:
        return _("never")
    return format_datetime(datetime.datetime.fromtimestamp(seconds).astimezone(), "short")


def add_students() -> None:
    page_language()  # a callback runs before the page: its sentences need the language too
    try:
        st.session_state[CODES_KEY] = roster.add_students(st.session_state["teacher_names"].splitlines())
    except AccountError as error:
        st.session_state["teacher_error"] = str(error)
    else:
        st.session_state["teacher_names"] = ""
        if not st.session_state[CODES_KEY]:
            st.session_state["teacher_error"] = _(
                "Everyone on that list is on the roster already: use New code below."
            )


# ----------------------------------------------------------------------------- students

st.header(_("Students"), divider="gray")
st.text_area(_("Add students: one name per line"), key="teacher_names", height=140,
             placeholder=_("Ana Lima\nBen Okafor"))
st.button(_("Add them and make their codes"), type="primary", on_click=add_students, key="teacher_add")
if st.session_state.get("teacher_error"):
    st.error(st.session_state.pop("teacher_error"))

codes = st.session_state.get(CODES_KEY)
if codes:
    st.success(_("New codes, shown this once. Give each student theirs; Done hides them for good."))
    code_table = pd.DataFrame({_("name"): list(codes), _("code"): list(codes.values())})
    st.dataframe(code_table, hide_index=True, key="teacher_codes_table")
    left, right = st.columns(2)
    left.download_button(_("Download the codes (CSV)"), code_table.to_csv(index=False), file_name="class-codes.csv",
                         mime="text/csv", key="teacher_download_codes")
    right.button(_("Done: hide the codes"), key="teacher_hide_codes", on_click=st.session_state.pop,
                 args=(CODES_KEY, None))

runs = registry.list_runs()
students = roster.students()
if not students:
    st.info(_("No students yet: add their names above."))
else:
    runs_of = {}
    for run in runs:
        runs_of[run.owner] = runs_of.get(run.owner, 0) + 1
    st.dataframe(
        pd.DataFrame([{_("name"): s.name, _("added"): when(s.added), _("last signed in"): when(s.last_sign_in),
                       _("saved runs"): runs_of.get(s.name, 0)} for s in students]),
        hide_index=True, width="stretch",
    )
    chosen, new_code_column, remove_column = st.columns([2, 1, 1], vertical_alignment="bottom")
    student = chosen.selectbox(_("Student"), [s.name for s in students], key="teacher_student")
    if new_code_column.button(_("New code"), key="teacher_new_code", help=_("The old code stops working at once.")):
        st.session_state[CODES_KEY] = {student: roster.new_code_for(student)}
        st.rerun()
    confirm = remove_column.checkbox(_("Remove {name}").format(name=student), key="teacher_confirm_remove",
                                     help=_("They can no longer sign in; their runs stay, under their name."))
    if remove_column.button(_("Remove"), disabled=not confirm, key="teacher_remove"):
        roster.remove_student(student)
        st.session_state["teacher_confirm_remove"] = False
        st.rerun()

st.header(_("What students see"), divider="gray")
st.toggle(
    _("Students see each other's runs (read-only: to compare and build ensembles)"),
    value=roster.others_runs_visible, key="teacher_others_visible",
    on_change=lambda: setattr(roster, "others_runs_visible", st.session_state["teacher_others_visible"]),
    help=_(
        "Off: each student sees only their own runs and the shipped model. Only a run's owner, and you, "
        "may ever rename, delete, stop or continue it."
    ),
)
folders = class_settings().allowed_folders
if folders:
    st.markdown(_("Server folders students may import data from: {folders}").format(
        folders=_(", ").join(f"`{folder}`" for folder in folders)
    ))
else:
    st.caption(_("Students import data by upload only: no server folder is open to browsers "
                 "(allowed_folders in .streamlit/secrets.toml)."))


# ----------------------------------------------------------------------------- trainings


@st.fragment(run_every=REFRESH_SECONDS)
def trainings() -> None:
    page_language()  # a fragment's own reruns start here, not at the top of the page
    manager = jobs.manager()
    manager.interrupted_runs()  # adopts trainings that outlived a server restart, so they can be stopped
    everything = manager.jobs()
    active = [job for job in everything if job.active]
    st.caption(_("{running} running and {waiting} waiting; at most {limit} run at once (FER_MAX_TRAININGS).").format(
        running=manager.running_count(), waiting=manager.queued_count(), limit=manager.max_running
    ))
    if not everything:
        st.info(_("No trainings since the server started."))
        return
    job_states = {
        jobs.QUEUED: pgettext("training state", "queued"), jobs.RUNNING: pgettext("training state", "running"),
        jobs.FINISHED: pgettext("training state", "finished"), jobs.STOPPED: pgettext("training state", "stopped"),
        jobs.FAILED: pgettext("training state", "failed"), jobs.CANCELLED: pgettext("training state", "cancelled"),
        jobs.INTERRUPTED: pgettext("training state", "interrupted"),
    }
    rows = []
    for job in everything:
        batch = job.events.last("batch") if job.state == jobs.RUNNING else None
        rows.append({
            _("run"): job.id, _("student"): job.owner, _("state"): job_states.get(job.state, job.state),
            _("queue position"): manager.queue_position(job) or None,
            _("epoch"): f"{batch['epoch']}/{job.config.epochs}" if batch else None,
            _("architecture"): job.config.architecture, _("data set"): job.config.dataset,
            _("submitted"): when(job.submitted),
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="teacher_trainings_table")
    if active:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        job_labels = {job.id: f"{job.id} ({job.owner})" for job in active}
        chosen_job = left.selectbox(_("Training"), list(job_labels), key="teacher_stop_job",
                                    format_func=job_labels.__getitem__)
        if right.button(_("Stop it"), key="teacher_stop", help=_("Running: ends after the batch, the best epoch is "
                                                                 "kept. Waiting: taken out of the queue.")):
            try:
                manager.stop(chosen_job, by=user)
            except permissions.NotAllowed as error:
                st.error(str(error))


st.header(_("Trainings on this server"), divider="gray")
trainings()

# ----------------------------------------------------------------------------- runs and data sets

st.header(_("Who trained what"), divider="gray")
if runs:
    st.dataframe(
        pd.DataFrame([{
            _("run"): run.name, _("owner"): _("shipped") if run.shipped else (run.owner or "?"),
            _("architecture"): run.config.get("architecture"), _("data set"): run.config.get("dataset"),
            _("kept epoch"): run.metrics.get("chosen_epoch"), _("accuracy"): run.metrics.get("test_accuracy"),
            _("measured on"): data.shown_split_label(data.test_accuracy_split(run.config, run.metrics)),
        } for run in runs]),
        hide_index=True, width="stretch", key="teacher_runs_table",
    )
    st.caption(_("Rename, delete or continue any student's run on the **Train a network** page."))
else:
    st.info(_("No saved runs yet."))

st.subheader(_("Data sets"))
st.dataframe(
    pd.DataFrame([{_("data set"): name, _("imported by"): _("built in") if name == data.SYNTHETIC else
                   (roster.dataset_owner(name) or _("the server (command line or laptop mode)"))}
                  for name in data.available_datasets()]),
    hide_index=True, key="teacher_datasets_table",
)
dataset_delete_form("teacher_delete_dataset")
