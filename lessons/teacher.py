"""Your class, the teacher's page: the roster and its codes, what students see, every training, who trained what."""

import datetime

import pandas as pd
import streamlit as st

from fer import data, jobs, permissions, registry
from fer.accounts import AccountError
from lessons._identity import TEACHER, accounts, class_settings, current_user
from lessons._shared import dataset_delete_form

CODES_KEY = "teacher_new_codes"  # {name: code} of the students just added: shown once, never stored in clear
REFRESH_SECONDS = 3.0

user = current_user()
if user.role != TEACHER:
    st.error("This page is the teacher's: sign in as the teacher to see it.")
    st.stop()
roster = accounts()

st.title("Your class")
st.markdown(
    "Each student signs in with their name and a code made here. The codes are shown **once**: "
    "print them or hand them out now. The server keeps only a salted hash of each, so a lost code "
    "cannot be looked up, only replaced by a new one."
)


def when(seconds: float | None) -> str:
    return datetime.datetime.fromtimestamp(seconds).strftime("%d %b %H:%M") if seconds else "never"


def add_students() -> None:
    try:
        st.session_state[CODES_KEY] = roster.add_students(st.session_state["teacher_names"].splitlines())
    except AccountError as error:
        st.session_state["teacher_error"] = str(error)
    else:
        st.session_state["teacher_names"] = ""
        if not st.session_state[CODES_KEY]:
            st.session_state["teacher_error"] = "Everyone on that list is on the roster already: use New code below."


# ----------------------------------------------------------------------------- students

st.header("Students", divider="gray")
st.text_area("Add students: one name per line", key="teacher_names", height=140,
             placeholder="Ana Lima\nBen Okafor")
st.button("Add them and make their codes", type="primary", on_click=add_students, key="teacher_add")
if st.session_state.get("teacher_error"):
    st.error(st.session_state.pop("teacher_error"))

codes = st.session_state.get(CODES_KEY)
if codes:
    st.success("New codes, shown this once. Give each student theirs; Done hides them for good.")
    code_table = pd.DataFrame({"name": list(codes), "code": list(codes.values())})
    st.dataframe(code_table, hide_index=True, key="teacher_codes_table")
    left, right = st.columns(2)
    left.download_button("Download the codes (CSV)", code_table.to_csv(index=False), file_name="class-codes.csv",
                         mime="text/csv", key="teacher_download_codes")
    right.button("Done: hide the codes", key="teacher_hide_codes", on_click=st.session_state.pop,
                 args=(CODES_KEY, None))

runs = registry.list_runs()
students = roster.students()
if not students:
    st.info("No students yet: add their names above.")
else:
    runs_of = {}
    for run in runs:
        runs_of[run.owner] = runs_of.get(run.owner, 0) + 1
    st.dataframe(
        pd.DataFrame([{"name": s.name, "added": when(s.added), "last signed in": when(s.last_sign_in),
                       "saved runs": runs_of.get(s.name, 0)} for s in students]),
        hide_index=True, width="stretch",
    )
    chosen, new_code_column, remove_column = st.columns([2, 1, 1], vertical_alignment="bottom")
    student = chosen.selectbox("Student", [s.name for s in students], key="teacher_student")
    if new_code_column.button("New code", key="teacher_new_code", help="The old code stops working at once."):
        st.session_state[CODES_KEY] = {student: roster.new_code_for(student)}
        st.rerun()
    confirm = remove_column.checkbox(f"Remove {student}", key="teacher_confirm_remove",
                                     help="They can no longer sign in; their runs stay, under their name.")
    if remove_column.button("Remove", disabled=not confirm, key="teacher_remove"):
        roster.remove_student(student)
        st.session_state["teacher_confirm_remove"] = False
        st.rerun()

st.header("What students see", divider="gray")
st.toggle(
    "Students see each other's runs (read-only: to compare and build ensembles)",
    value=roster.others_runs_visible, key="teacher_others_visible",
    on_change=lambda: setattr(roster, "others_runs_visible", st.session_state["teacher_others_visible"]),
    help="Off: each student sees only their own runs and the shipped model. Only a run's owner, and you, "
    "may ever rename, delete, stop or continue it.",
)
folders = class_settings().allowed_folders
if folders:
    st.markdown("Server folders students may import data from: " + ", ".join(f"`{folder}`" for folder in folders))
else:
    st.caption("Students import data by upload only: no server folder is open to browsers "
               "(allowed_folders in .streamlit/secrets.toml).")


# ----------------------------------------------------------------------------- trainings


@st.fragment(run_every=REFRESH_SECONDS)
def trainings() -> None:
    manager = jobs.manager()
    manager.interrupted_runs()  # adopts trainings that outlived a server restart, so they can be stopped
    everything = manager.jobs()
    active = [job for job in everything if job.active]
    st.caption(f"{manager.running_count()} running and {manager.queued_count()} waiting; at most "
               f"{manager.max_running} run at once (FER_MAX_TRAININGS).")
    if not everything:
        st.info("No trainings since the server started.")
        return
    rows = []
    for job in everything:
        batch = job.events.last("batch") if job.state == jobs.RUNNING else None
        rows.append({
            "run": job.id, "student": job.owner, "state": job.state,
            "queue position": manager.queue_position(job) or None,
            "epoch": f"{batch['epoch']}/{job.config.epochs}" if batch else None,
            "architecture": job.config.architecture, "data set": job.config.dataset,
            "submitted": when(job.submitted),
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="teacher_trainings_table")
    if active:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        chosen_job = left.selectbox("Training", [job.id for job in active], key="teacher_stop_job",
                                    format_func=lambda job_id: f"{job_id} ({manager.get(job_id).owner})")
        if right.button("Stop it", key="teacher_stop", help="Running: ends after the batch, the best epoch is "
                        "kept. Waiting: taken out of the queue."):
            try:
                manager.stop(chosen_job, by=user)
            except permissions.NotAllowed as error:
                st.error(str(error))


st.header("Trainings on this server", divider="gray")
trainings()

# ----------------------------------------------------------------------------- runs and data sets

st.header("Who trained what", divider="gray")
if runs:
    st.dataframe(
        pd.DataFrame([{
            "run": run.name, "owner": "shipped" if run.shipped else (run.owner or "?"),
            "architecture": run.config.get("architecture"), "data set": run.config.get("dataset"),
            "kept epoch": run.metrics.get("chosen_epoch"), "accuracy": run.metrics.get("test_accuracy"),
            "measured on": data.test_accuracy_split(run.config, run.metrics),
        } for run in runs]),
        hide_index=True, width="stretch", key="teacher_runs_table",
    )
    st.caption("Rename, delete or continue any student's run on the **Train a network** page.")
else:
    st.info("No saved runs yet.")

st.subheader("Data sets")
st.dataframe(
    pd.DataFrame([{"data set": name, "imported by": "built in" if name == "synthetic" else
                   (roster.dataset_owner(name) or "the server (command line or laptop mode)")}
                  for name in data.available_datasets()]),
    hide_index=True, key="teacher_datasets_table",
)
dataset_delete_form("teacher_delete_dataset")
