"""Class competition: submit a model, climb the public board, and see the private board at the end."""

from datetime import datetime, time, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from fer import competition, data, evaluate, i18n
from fer.accounts import COMMAND_LINE_NAME, LAPTOP_NAME, TEACHER_NAME
from fer.i18n import _, format_integer, format_percent, ngettext, pgettext
from fer.urlstate import Field, UrlState
from lessons._identity import LAPTOP, current_user
from lessons._language import chart, page_language
from lessons._shared import dataset_cache, read_url_state, selected_dataset, visible_runs, write_url_state

FER2013_HALVES, RANDOM_HALVES = "usage", "halves"

page_language()
st.title(_("Class competition"))
st.markdown(
    _(
        "The two reports this course grew out of were written for a Kaggle in-class competition on "
        "FER2013. Everyone submitted models during the weeks of work and watched a **public "
        "leaderboard**, scored on PublicTest. At the deadline the **private leaderboard** appeared, "
        "scored on PrivateTest, faces nobody had seen a score on: report B's CNN scored 0.65 on the "
        "public one. Whoever tuned their model to the public board's faces, rather than to faces in "
        "general, dropped down the private one: the *shake-up*."
    )
)
st.markdown(
    _(
        "Here the server scores what you submit on both halves at once and shows you only the public "
        "score. The private scores stay on the server until the teacher reveals them or the deadline "
        "passes. A few submissions a day, so the public board cannot be searched by brute force."
    )
)

user = current_user()
# The names the app gives itself are words: shown in the reader's language (the board keeps them as ids).
RESERVED = {LAPTOP_NAME: _("you"), TEACHER_NAME: _("teacher"), COMMAND_LINE_NAME: _("command line")}


def shown_student(name: str) -> str:
    return RESERVED.get(name, name)


def moment(when, english: str, width: str = "short") -> str:
    return competition.format_moment(when, english, width)
names = [item.name for item in competition.list_competitions()]


def open_form() -> None:
    """The teacher's form: data set, halves, deadline, submissions per day."""
    datasets = data.available_datasets()
    halves_labels = {
        FER2013_HALVES: _("FER2013's own: PublicTest for the public board, PrivateTest for the private one"),
        RANDOM_HALVES: _("one test split cut in two at random (a test set imported as a data set of its own)"),
    }
    with st.form("competition_open"):
        name = st.text_input(_("Name"), value=f"fer-{datetime.now():%Y-%m}", key="competition_new_name")
        dataset_name = st.selectbox(_("Data set"), datasets, key="competition_new_dataset")
        halves = st.radio(
            _("Public and private faces"),
            list(halves_labels),
            format_func=halves_labels.__getitem__,
            key="competition_new_halves",
        )
        split_column, seed_column = st.columns(2)
        split = split_column.text_input(_("Split to cut in two"), value="test", key="competition_new_split",
                                        help=_("Only for a random cut: test, PublicTest or PrivateTest."))
        seed = seed_column.number_input(_("Seed of the cut"), min_value=0, max_value=1_000_000, value=0, step=1,
                                        key="competition_new_seed")
        day_column, hour_column, limit_column = st.columns(3)
        day = day_column.date_input(_("Deadline (day)"), value=datetime.now().date() + timedelta(days=14),
                                    key="competition_new_day")
        hour = hour_column.time_input(_("Deadline (time, server's clock)"), value=time(18, 0),
                                      key="competition_new_time")
        per_day = limit_column.number_input(_("Submissions per student per day"), min_value=1,
                                            max_value=competition.MAX_DAILY_LIMIT, value=5, step=1,
                                            key="competition_new_limit")
        if not st.form_submit_button(_("Open the competition"), type="primary"):
            return
    try:
        with st.spinner(_("Opening: scoring the shipped model for the board's reference line...")):
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
    with st.expander(_("Open a competition (teacher)"), expanded=not names):
        if user.role == LAPTOP:
            st.markdown(
                _(
                    "On your own laptop, a **practice round** cuts PublicTest (or the drawn faces' test split) "
                    "of the data set in the sidebar in two at random, for a week, five submissions a day."
                )
            )
            if st.button(_("Open a practice round"), key="competition_practice"):
                try:
                    with st.spinner(_("Opening the practice round...")):
                        practice = competition.open_practice(user, selected_dataset().name, load=dataset_cache().get)
                except ValueError as error:
                    st.error(str(error))
                else:
                    st.session_state["competition_choice"] = practice.name
                    st.rerun()
        open_form()

if not names:
    st.info(
        _("No competition is open yet. Open one above.") if user.is_teacher
        else _("No competition is open yet. Your teacher opens one; come back then.")
    )
    st.stop()

state = UrlState(Field.choice("competition", names[0], names))
linked = read_url_state(state)
if st.session_state.get("competition_choice") not in names:
    st.session_state["competition_choice"] = linked["competition"]
name = st.selectbox(_("Competition"), names, key="competition_choice")
write_url_state(state, {"competition": name})
chosen = competition.get_competition(name)
halves = chosen.halves
public_split = (
    _("{split}'s public half").format(split=halves.public_split) if halves.halved else halves.public_split
)
private_split = (
    _("{split}'s private half").format(split=halves.private_split) if halves.halved else halves.private_split
)
state_sentence = (
    _("closed: the private board is out") if not chosen.is_open()
    else _("open; the private board is out") if chosen.is_revealed()
    else _("open until {deadline}").format(deadline=moment(chosen.deadline, "%a %d %b %H:%M"))
)
rules = ngettext(
    "{halves}. {count} submission per student per day; {state}. A practice round.",
    "{halves}. {count} submissions per student per day; {state}. A practice round.",
    chosen.daily_limit,
) if chosen.practice else ngettext(
    "{halves}. {count} submission per student per day; {state}.",
    "{halves}. {count} submissions per student per day; {state}.",
    chosen.daily_limit,
)
st.caption(rules.format(halves=chosen.describe_halves(), count=chosen.daily_limit, state=state_sentence))

# ----------------------------------------------------------------------------- submitting

st.header(_("Submit a model"))
if not chosen.is_open():
    st.info(_("This competition is closed: it takes no more submissions."))
else:
    runs = [
        run for run in visible_runs()
        if user.is_teacher or (not run.shipped and run.owner in (None, user.name))
    ]
    if not runs:
        st.info(_("You have no trained model yet: train one on the **Train a network** page, then submit it here."))
    else:
        run_column, tta_column = st.columns([3, 2])
        run_name = run_column.selectbox(_("Your run or ensemble"), [run.name for run in runs], key="competition_run")
        tta_labels = {mode: evaluate.tta_label(mode) for mode in evaluate.TTA_MODES}
        tta = tta_column.selectbox(
            pgettext("first use", "Test-time augmentation"), list(tta_labels),
            format_func=tta_labels.__getitem__, key="competition_tta",
        )
        used, limit, next_day = competition.submissions_left(name, user.name)
        st.caption(
            _("{used} of your {limit} submissions today; the count starts again at {moment}.").format(
                used=used, limit=limit, moment=moment(next_day, "%H:%M on %a %d %b")
            )
        )
        if st.button(_("Submit"), type="primary", key="competition_submit"):
            try:
                scoring = _("Scoring {run} on {dataset} (TTA: {tta})...").format(
                    run=run_name, dataset=chosen.dataset, tta=tta
                )
                with st.spinner(scoring):
                    result = competition.submit(name, run_name, tta, by=user, load=dataset_cache().get)
            except ValueError as error:
                st.error(str(error))
            else:
                st.success(
                    _(
                        "{run} with TTA {tta}: **{score}** on {split}. {used} of {limit} submissions used today."
                    ).format(
                        run=run_name, tta=tta, score=format_percent(result.public_score, 2), split=public_split,
                        used=result.used_today, limit=result.daily_limit,
                    )
                )

# ----------------------------------------------------------------------------- the boards

boards = competition.boards(name)
if st.button(_("Refresh the boards"), key="competition_refresh"):
    st.rerun()
COLUMNS = {  # the boards' columns in the reader's language
    "rank": _("rank"), "student": _("student"), "best score": _("best score"), "submissions": _("submissions"),
    "best submitted": _("best submitted"), "private score": _("private score"), "public rank": _("public rank"),
    "moved": _("moved"), "run": _("run"), "TTA": "TTA",
}


def public_board() -> None:
    st.subheader(_("Public board ({split})").format(split=public_split))
    if not boards.public:
        st.caption(_("No submission yet."))
        return
    st.dataframe(
        pd.DataFrame([
            {"rank": entry.rank, "student": shown_student(entry.student), "best score": entry.best_score,
             "submissions": entry.submissions, "best submitted": moment(entry.best_at, "%a %d %b %H:%M")}
            for entry in boards.public
        ]).rename(columns=COLUMNS),
        column_config={COLUMNS["best score"]: st.column_config.NumberColumn(format="percent")},
        hide_index=True, key="competition_public_board",
    )


def private_board() -> None:
    st.subheader(_("Private board ({split})").format(split=private_split))
    if not boards.private:
        st.caption(_("No submission was made."))
        return
    st.dataframe(
        pd.DataFrame([
            {"rank": entry.rank, "student": shown_student(entry.student), "private score": entry.score,
             "public rank": entry.public_rank,
             "moved": "—" if entry.rank_change == 0 else f"{'▲' if entry.rank_change > 0 else '▼'} "
                                                         f"{abs(entry.rank_change)}",
             "run": entry.run, "TTA": entry.tta}
            for entry in boards.private
        ]).rename(columns=COLUMNS),
        column_config={COLUMNS["private score"]: st.column_config.NumberColumn(format="percent")},
        hide_index=True, key="competition_private_board",
    )
    st.caption(_("Each student's submission with the best public score counts; **moved** is the shake-up: "
                 "places gained (▲) or lost (▼) from the public board."))


mine = next((entry for entry in boards.public if entry.student == user.name), None)
my_private = next((entry for entry in boards.private or [] if entry.student == user.name), None)
if my_private is not None:
    if my_private.rank_change == 0:
        moved = _("you kept your place")
    elif my_private.rank_change > 0:
        moved = _("you moved up {places}").format(places=my_private.rank_change)
    else:
        moved = _("you moved down {places}").format(places=-my_private.rank_change)
    st.markdown(
        _(
            "**You**: private score **{score}**, rank {rank} of {count} on the private board "
            "(you were {public_rank} on the public one: {moved})."
        ).format(
            score=format_percent(my_private.score, 2), rank=my_private.rank, count=len(boards.private),
            public_rank=my_private.public_rank, moved=moved,
        )
    )
elif mine is not None:
    st.markdown(
        ngettext(
            "**You**: best public score **{score}**, rank {rank} of {count}, after {submissions} submission.",
            "**You**: best public score **{score}**, rank {rank} of {count}, after {submissions} submissions.",
            mine.submissions,
        ).format(
            score=format_percent(mine.best_score, 2), rank=mine.rank, count=len(boards.public),
            submissions=mine.submissions,
        )
    )
if boards.revealed:
    public_column, private_column = st.columns(2)
    with public_column:
        public_board()
    with private_column:
        private_board()
else:
    public_board()
    st.info(
        _(
            "The private board ({split}) stays on the server until the teacher reveals it or the "
            "deadline passes ({deadline})."
        ).format(split=private_split, deadline=moment(chosen.deadline, "%a %d %b %Y %H:%M", "long"))
    )

st.subheader(_("Public scores over time"))
if boards.history:
    history = pd.DataFrame([
        {"submitted": point.submitted_at.replace(tzinfo=None), "public score": point.public_score,
         "student": shown_student(point.student), "run": point.run, "TTA": point.tta,
         "you": point.student == user.name}
        for point in boards.history
    ])
    lines = pd.DataFrame([{"reference": line.label, "public score": line.score} for line in boards.references])
    # English keeps Vega's own date labels; other languages get numbers, which need no month names.
    english = i18n.current_language() == i18n.SOURCE_LANGUAGE
    time_axis = alt.Axis() if english else alt.Axis(format="%m/%d %H:%M")
    scores = alt.Chart(history).mark_line(point=True).encode(
        x=alt.X("submitted:T", title=_("submitted"), axis=time_axis),
        y=alt.Y("public score:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"),
                title=_("public score")),
        color=alt.Color("student:N", title=_("student")),
        strokeWidth=alt.condition("datum.you", alt.value(4), alt.value(1.5)),
        tooltip=[
            alt.Tooltip("student:N", title=_("student")),
            alt.Tooltip("run:N", title=_("run")),
            alt.Tooltip("TTA:N", title="TTA"),
            alt.Tooltip("public score:Q", format=".2%", title=_("public score")),
            alt.Tooltip("submitted:T", format="%a %d %b %H:%M" if english else "%Y-%m-%d %H:%M",
                        title=_("submitted")),
        ],
    )
    rules = alt.Chart(lines).mark_rule(strokeDash=[6, 4], color="gray").encode(
        y=alt.Y("public score:Q", title=_("public score")))
    labels = alt.Chart(lines).mark_text(align="left", dx=4, dy=-6, color="gray").encode(
        y=alt.Y("public score:Q", title=_("public score")), text="reference:N", x=alt.value(0))
    st.altair_chart(chart((scores + rules + labels).properties(height=320)), width="stretch")
    st.caption(
        _(
            "Each line is one student's public scores, submission after submission (yours is the thick one). "
            "Grey dashes: report A's 0.60 validation accuracy, report B's 0.65 public score, and the model "
            "shipped with the app on this board's faces."
        ) if len(lines) > 2 else _(
            "Each line is one student's public scores, submission after submission (yours is the thick one). "
            "Grey dashes: report A's 0.60 validation accuracy, report B's 0.65 public score."
        )
    )
else:
    st.caption(_("The chart appears with the first submission."))
if boards.revealed and boards.private_references:
    shipped = [line for line in boards.private_references if line.kind == competition.SHIPPED]
    if shipped:
        st.caption(
            _("On the private faces the shipped model scored {score}.").format(
                score=format_percent(shipped[0].score, 2)
            )
        )

# ----------------------------------------------------------------------------- the teacher's tools

if user.is_teacher:
    st.header(_("Teacher's tools"))
    reveal_column, export_column = st.columns(2)
    if not boards.revealed and reveal_column.button(_("Reveal the private board now"), key="competition_reveal"):
        competition.reveal(name, by=user)
        st.rerun()
    export_column.download_button(
        _("Both boards as CSV, for grading"), competition.export_csv(name), file_name=f"{name}-boards.csv",
        mime="text/csv", key="competition_export",
        help=_("One row per student; the private columns stay empty until the private board is revealed."),
    )

st.markdown(
    _(
        "**Why two boards?** The public score is measured on {faces} faces. Each time you "
        "submit and keep what scored best, you learn a little about *those* faces, and a difference of a "
        "few faces is noise: one face is {one} of the score. Choose models by "
        "their validation accuracy ({share} of Training, faces you may look at as often as you like), and use "
        "the public board only to check. The split names are FER2013's own: PublicTest and PrivateTest were "
        "the Kaggle competition's public and private leaderboards."
    ).format(
        faces=format_integer(chosen.public_faces), one=format_percent(1 / max(chosen.public_faces, 1), 2),
        share=format_percent(0.1),
    )
)
