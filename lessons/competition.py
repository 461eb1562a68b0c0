"""Class competition: submit a model, climb the public board, and see the private board at the end."""

from datetime import datetime, time, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from fer import competition, data, evaluate
from fer.urlstate import Field, UrlState
from lessons._identity import LAPTOP, current_user
from lessons._shared import dataset_cache, read_url_state, selected_dataset, visible_runs, write_url_state

FER2013_HALVES, RANDOM_HALVES = "usage", "halves"

st.title("Class competition")
st.markdown(
    """
The two reports this course grew out of were written for a Kaggle in-class competition on
FER2013. Everyone submitted models during the weeks of work and watched a **public
leaderboard**, scored on PublicTest. At the deadline the **private leaderboard** appeared,
scored on PrivateTest, faces nobody had seen a score on: report B's CNN scored 0.65 on the
public one. Whoever tuned their model to the public board's faces, rather than to faces in
general, dropped down the private one: the *shake-up*.

Here the server scores what you submit on both halves at once and shows you only the public
score. The private scores stay on the server until the teacher reveals them or the deadline
passes. A few submissions a day, so the public board cannot be searched by brute force.
"""
)

user = current_user()
names = [item.name for item in competition.list_competitions()]


def open_form() -> None:
    """The teacher's form: data set, halves, deadline, submissions per day."""
    datasets = data.available_datasets()
    with st.form("competition_open"):
        name = st.text_input("Name", value=f"fer-{datetime.now():%Y-%m}", key="competition_new_name")
        dataset_name = st.selectbox("Data set", datasets, key="competition_new_dataset")
        halves = st.radio(
            "Public and private faces",
            [FER2013_HALVES, RANDOM_HALVES],
            format_func={
                FER2013_HALVES: "FER2013's own: PublicTest for the public board, PrivateTest for the private one",
                RANDOM_HALVES: "one test split cut in two at random (a test set imported as a data set of its own)",
            }.get,
            key="competition_new_halves",
        )
        split_column, seed_column = st.columns(2)
        split = split_column.text_input("Split to cut in two", value="test", key="competition_new_split",
                                        help="Only for a random cut: test, PublicTest or PrivateTest.")
        seed = seed_column.number_input("Seed of the cut", min_value=0, max_value=1_000_000, value=0, step=1,
                                        key="competition_new_seed")
        day_column, hour_column, limit_column = st.columns(3)
        day = day_column.date_input("Deadline (day)", value=datetime.now().date() + timedelta(days=14),
                                    key="competition_new_day")
        hour = hour_column.time_input("Deadline (time, server's clock)", value=time(18, 0), key="competition_new_time")
        per_day = limit_column.number_input("Submissions per student per day", min_value=1,
                                            max_value=competition.MAX_DAILY_LIMIT, value=5, step=1,
                                            key="competition_new_limit")
        if not st.form_submit_button("Open the competition", type="primary"):
            return
    try:
        with st.spinner("Opening: scoring the shipped model for the board's reference line..."):
            opened = competition.open_competition(
                name.strip(), dataset_name, by=user, deadline=datetime.combine(day, hour).astimezone(),
                daily_limit=int(per_day), halve=split.strip() if halves == RANDOM_HALVES else None, seed=int(seed),
                load=dataset_cache().get,
            )
    except ValueError as error:
        st.error(str(error))
        return
    st.session_state["competition_choice"] = opened.name
    st.rerun()


if user.is_teacher:
    with st.expander("Open a competition (teacher)", expanded=not names):
        if user.role == LAPTOP:
            st.markdown(
                "On your own laptop, a **practice round** cuts PublicTest (or the drawn faces' test split) "
                "of the data set in the sidebar in two at random, for a week, five submissions a day."
            )
            if st.button("Open a practice round", key="competition_practice"):
                try:
                    with st.spinner("Opening the practice round..."):
                        practice = competition.open_practice(user, selected_dataset().name, load=dataset_cache().get)
                except ValueError as error:
                    st.error(str(error))
                else:
                    st.session_state["competition_choice"] = practice.name
                    st.rerun()
        open_form()

if not names:
    st.info("No competition is open yet. " + (
        "Open one above." if user.is_teacher else "Your teacher opens one; come back then."))
    st.stop()

state = UrlState(Field.choice("competition", names[0], names))
linked = read_url_state(state)
if st.session_state.get("competition_choice") not in names:
    st.session_state["competition_choice"] = linked["competition"]
name = st.selectbox("Competition", names, key="competition_choice")
write_url_state(state, {"competition": name})
chosen = competition.get_competition(name)
halves = chosen.halves
public_split = f"{halves.public_split}'s public half" if halves.halved else halves.public_split
private_split = f"{halves.private_split}'s private half" if halves.halved else halves.private_split
state_sentence = (
    "closed: the private board is out" if not chosen.is_open()
    else "open; the private board is out" if chosen.is_revealed()
    else f"open until {chosen.deadline:%a %d %b %H:%M}"
)
st.caption(
    f"{chosen.describe_halves()}. {chosen.daily_limit} submissions per student per day; {state_sentence}."
    + (" A practice round." if chosen.practice else "")
)

# ----------------------------------------------------------------------------- submitting

st.header("Submit a model")
if not chosen.is_open():
    st.info("This competition is closed: it takes no more submissions.")
else:
    runs = [
        run for run in visible_runs()
        if user.is_teacher or (not run.shipped and run.owner in (None, user.name))
    ]
    if not runs:
        st.info("You have no trained model yet: train one on the **Train a network** page, then submit it here.")
    else:
        run_column, tta_column = st.columns([3, 2])
        run_name = run_column.selectbox("Your run or ensemble", [run.name for run in runs], key="competition_run")
        tta = tta_column.selectbox(
            "Test-time augmentation", list(evaluate.TTA_MODES),
            format_func=lambda mode: f"{mode}: {evaluate.TTA_DESCRIPTIONS[mode]}", key="competition_tta",
        )
        used, limit, next_day = competition.submissions_left(name, user.name)
        st.caption(f"{used} of your {limit} submissions today; the count starts again at "
                   f"{next_day:%H:%M} on {next_day:%a %d %b}.")
        if st.button("Submit", type="primary", key="competition_submit"):
            try:
                with st.spinner(f"Scoring {run_name} on {chosen.dataset} (TTA: {tta})..."):
                    result = competition.submit(name, run_name, tta, by=user, load=dataset_cache().get)
            except ValueError as error:
                st.error(str(error))
            else:
                st.success(
                    f"{run_name} with TTA {tta}: **{result.public_score:.2%}** on {public_split}. "
                    f"{result.used_today} of {result.daily_limit} submissions used today."
                )

# ----------------------------------------------------------------------------- the boards

boards = competition.boards(name)
if st.button("Refresh the boards", key="competition_refresh"):
    st.rerun()


def public_board() -> None:
    st.subheader(f"Public board ({public_split})")
    if not boards.public:
        st.caption("No submission yet.")
        return
    st.dataframe(
        pd.DataFrame([
            {"rank": entry.rank, "student": entry.student, "best score": entry.best_score,
             "submissions": entry.submissions, "best submitted": entry.best_at.strftime("%a %d %b %H:%M")}
            for entry in boards.public
        ]),
        column_config={"best score": st.column_config.NumberColumn(format="percent")},
        hide_index=True, key="competition_public_board",
    )


def private_board() -> None:
    st.subheader(f"Private board ({private_split})")
    if not boards.private:
        st.caption("No submission was made.")
        return
    st.dataframe(
        pd.DataFrame([
            {"rank": entry.rank, "student": entry.student, "private score": entry.score,
             "public rank": entry.public_rank,
             "moved": "—" if entry.rank_change == 0 else f"{'▲' if entry.rank_change > 0 else '▼'} "
                                                         f"{abs(entry.rank_change)}",
             "run": entry.run, "TTA": entry.tta}
            for entry in boards.private
        ]),
        column_config={"private score": st.column_config.NumberColumn(format="percent")},
        hide_index=True, key="competition_private_board",
    )
    st.caption("Each student's submission with the best public score counts; **moved** is the shake-up: "
               "places gained (▲) or lost (▼) from the public board.")


mine = next((entry for entry in boards.public if entry.student == user.name), None)
my_private = next((entry for entry in boards.private or [] if entry.student == user.name), None)
if my_private is not None:
    moved = "kept your place" if my_private.rank_change == 0 else (
        f"moved {'up' if my_private.rank_change > 0 else 'down'} {abs(my_private.rank_change)}")
    st.markdown(f"**You**: private score **{my_private.score:.2%}**, rank {my_private.rank} of {len(boards.private)} "
                f"on the private board (you were {my_private.public_rank} on the public one: you {moved}).")
elif mine is not None:
    st.markdown(f"**You**: best public score **{mine.best_score:.2%}**, rank {mine.rank} of {len(boards.public)}, "
                f"after {mine.submissions} submission{'s' if mine.submissions > 1 else ''}.")
if boards.revealed:
    public_column, private_column = st.columns(2)
    with public_column:
        public_board()
    with private_column:
        private_board()
else:
    public_board()
    st.info(f"The private board ({private_split}) stays on the server until the teacher reveals it or the "
            f"deadline passes ({chosen.deadline:%a %d %b %Y %H:%M}).")

st.subheader("Public scores over time")
if boards.history:
    history = pd.DataFrame([
        {"submitted": point.submitted_at.replace(tzinfo=None), "public score": point.public_score,
         "student": point.student, "run": point.run, "TTA": point.tta, "you": point.student == user.name}
        for point in boards.history
    ])
    lines = pd.DataFrame([{"reference": line.label, "public score": line.score} for line in boards.references])
    scores = alt.Chart(history).mark_line(point=True).encode(
        x=alt.X("submitted:T", title="submitted"),
        y=alt.Y("public score:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("student:N"),
        strokeWidth=alt.condition("datum.you", alt.value(4), alt.value(1.5)),
        tooltip=["student", "run", "TTA", alt.Tooltip("public score:Q", format=".2%"),
                 alt.Tooltip("submitted:T", format="%a %d %b %H:%M")],
    )
    rules = alt.Chart(lines).mark_rule(strokeDash=[6, 4], color="gray").encode(y="public score:Q")
    labels = alt.Chart(lines).mark_text(align="left", dx=4, dy=-6, color="gray").encode(
        y="public score:Q", text="reference:N", x=alt.value(0))
    st.altair_chart((scores + rules + labels).properties(height=320), width="stretch")
    st.caption(
        "Each line is one student's public scores, submission after submission (yours is the thick one). "
        "Grey dashes: report A's 0.60 validation accuracy, report B's 0.65 public score"
        + (", and the model shipped with the app on this board's faces." if len(lines) > 2 else ".")
    )
else:
    st.caption("The chart appears with the first submission.")
if boards.revealed and boards.private_references:
    shipped = [line for line in boards.private_references if line.label.startswith("shipped")]
    if shipped:
        st.caption(f"On the private faces the shipped model scored {shipped[0].score:.2%}.")

# ----------------------------------------------------------------------------- the teacher's tools

if user.is_teacher:
    st.header("Teacher's tools")
    reveal_column, export_column = st.columns(2)
    if not boards.revealed and reveal_column.button("Reveal the private board now", key="competition_reveal"):
        competition.reveal(name, by=user)
        st.rerun()
    export_column.download_button(
        "Both boards as CSV, for grading", competition.export_csv(name), file_name=f"{name}-boards.csv",
        mime="text/csv", key="competition_export",
        help="One row per student; the private columns stay empty until the private board is revealed.",
    )

st.markdown(
    f"""
**Why two boards?** The public score is measured on {chosen.public_faces:,} faces. Each time you
submit and keep what scored best, you learn a little about *those* faces, and a difference of a
few faces is noise: one face is {1 / max(chosen.public_faces, 1):.2%} of the score. Choose models by
their validation accuracy (10 % of Training, faces you may look at as often as you like), and use
the public board only to check. The split names are FER2013's own: PublicTest and PrivateTest were
the Kaggle competition's public and private leaderboards.
"""
)
