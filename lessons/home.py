"""Home: what the course is, the lessons in order, the data set and the models in use."""

import altair as alt
import pandas as pd
import streamlit as st

from fer import data, ensemble, registry
from fer.ensemble_network import parameter_count
from fer.i18n import N_, _, expressions, format_decimal, format_integer, format_list, format_percent, pgettext
from lessons._language import chart, page_language
from lessons._shared import (
    class_counts_frame,
    selected_dataset,
    selected_model_name,
    show_sample_faces,
    split_order,
    visible_runs,
)

SAMPLES_PER_CLASS = 8

page_language()
st.title(_("Facial expressions with convolutional networks"))
st.markdown(
    _(
        "A hands-on course on convolutional networks, built around one real task: telling which of "
        "seven expressions a 48x48 grayscale face shows. You will work out layer shapes by hand, derive "
        "the gradients of BatchNorm and softmax, train networks on your CPU or GPU and watch them learn, "
        "take them apart to see what they look at, and finally run your own model on your own face in "
        "the browser."
    )
)
st.markdown(
    _(
        "The course grew out of two students' homework reports on FER2013 from a university "
        "machine-learning course in Taiwan, written for a Kaggle in-class competition: **report A** "
        "(PyTorch, four {convolution} blocks, about 0.60 validation accuracy) and **report B** (Keras, a "
        "CNN of 4,087,323 parameters scoring 0.65 on the public {leaderboard}, and a dense network of the "
        "same size). Every question they answer, you will answer for your own model."
    ).format(
        convolution=pgettext("first use", "convolution"), leaderboard=pgettext("first use", "leaderboard")
    )
)

# (page, title, what it teaches): titles as the navigation shows them, shown through _().
LESSONS = [
    ("lessons/data.py", N_("Your data"), N_("bring FER2013, or use the built-in synthetic faces")),
    ("lessons/shapes.py", N_("Shape arithmetic"), N_("output shapes and parameter counts, checked against Keras")),
    ("lessons/batchnorm.py", N_("BatchNorm backprop"), N_("the hand-derived gradient against autodiff")),
    ("lessons/softmax.py", N_("Softmax + cross-entropy"), N_("why the gradient is simply yhat - y")),
    ("lessons/train.py", N_("Train a network"), N_("live loss and accuracy charts, on CPU or GPU")),
    ("lessons/cnn_vs_dnn.py", N_("CNN versus DNN"), N_("why convolution wins on faces")),
    ("lessons/confusion.py", N_("Confusion matrix"), N_("which expressions get mixed up, down to the images")),
    ("lessons/ensembles.py", N_("Ensembles and TTA"), N_("several models and flipped copies vote")),
    ("lessons/competition.py", N_("Class competition"), N_("a public leaderboard now, the private one at the end")),
    ("lessons/saliency.py", N_("Saliency maps"), N_("which pixels the decision rests on")),
    ("lessons/filters.py", N_("Filter visualisation"), N_("what each filter is looking for")),
    ("lessons/feature_maps.py", N_("Feature maps"), N_("one face, layer by layer")),
    ("lessons/webcam.py", N_("Export and webcam"), N_("your model on your face, in the browser, offline")),
]

st.header(_("The lessons, in order"))
for number, (page, title, summary) in enumerate(LESSONS, start=1):
    label = _("{number}. {title}: {summary}").format(number=number, title=_(title), summary=_(summary))
    st.page_link(page, label=label)

dataset = selected_dataset()
st.header(_("The data set in use"))
if dataset.synthetic:
    st.warning(
        _(
            "These are **synthetic faces** drawn by the app, so every page works on a fresh machine. "
            "They are not photographs. Bring FER2013 (the Kaggle `fer2013.csv` or its image "
            "folders) on the **Your data** page to train on real faces."
        )
    )
st.caption(dataset.describe())

counts = class_counts_frame(dataset)
split_labels = split_order(dataset)
st.altair_chart(
    chart(
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("expression:N", sort=expressions(), title=None),
            y=alt.Y("faces:Q", title=_("faces")),
            color=alt.Color("split:N", sort=split_labels, title=_("split")),
            xOffset=alt.XOffset("split:N", sort=split_labels),
            tooltip=[
                alt.Tooltip("expression:N", title=_("expression")),
                alt.Tooltip("split:N", title=_("split")),
                alt.Tooltip("faces:Q", title=_("faces")),
            ],
        )
        .properties(height=260)
    ),
    width="stretch",
)

st.subheader(_("Sample faces per expression"))
show_sample_faces(dataset, SAMPLES_PER_CLASS)

st.header(_("Models"))
runs = visible_runs()
if not runs:
    st.info(
        _(
            "No trained model yet in `{folder}`. Train one on the **Train a network** page, or with "
            "`python -m fer train`."
        ).format(folder=registry.models_dir())
    )
else:
    in_use = selected_model_name()
    accuracy = _("accuracy")
    table = pd.DataFrame(
        [
            {
                _("model"): run.name,
                _("in use"): "✔" if run.name == in_use else "",
                _("architecture"): run.config.get("architecture", ""),
                _("trained on"): run.config.get("dataset", ""),
                accuracy: run.metrics.get("test_accuracy"),
                _("measured on"): (
                    data.shown_split_label(data.test_accuracy_split(run.config, run.metrics))
                    if "test_accuracy" in run.metrics else ""
                ),
                _("shipped with the app"): "✔" if run.shipped else "",
            }
            for run in runs
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={accuracy: st.column_config.NumberColumn(format="percent")},
    )
    st.caption(
        _(
            "Models live in `{folder}`, one folder per run. Accuracy is measured on the split "
            "named beside it: FER2013's PublicTest where the data set has it (PrivateTest is kept for the "
            "private leaderboard of a class competition), else the data set's test split."
        ).format(folder=registry.models_dir())
    )


def show_numbers(run: registry.RunInfo) -> None:
    public = run.metrics.get("public_test", {})
    if "accuracy" in public:
        by_tta = public.get("accuracy_by_tta", {})
        columns = st.columns(4)
        columns[0].metric(_("FER2013 PublicTest accuracy"), format_percent(public["accuracy"], 1))
        if "flip" in by_tta:
            columns[1].metric(_("with flip TTA"), format_percent(by_tta["flip"], 1))
        if by_tta:
            best = max(by_tta, key=by_tta.get)
            columns[2].metric(_("best TTA: {mode}").format(mode=best), format_percent(by_tta[best], 1))
        columns[3].metric(_("parameters"), format_integer(parameter_count(run.name) or 0))
    if public.get("per_class"):
        recall = pd.DataFrame({
            _("expression"): expressions(),
            _("recall"): [row["recall"] for row in public["per_class"]],
        })
        st.altair_chart(chart(
            alt.Chart(recall, title=_("Of each expression's PublicTest faces, the share it finds (recall)"))
            .mark_bar()
            .encode(
                x=alt.X(f"{_('recall')}:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
                y=alt.Y(f"{_('expression')}:N", sort=None, axis=alt.Axis(labelOverlap=False)),
                tooltip=[_("expression"), alt.Tooltip(f"{_('recall')}:Q", format=".1%")],
            )
            .properties(height=alt.Step(30))
        ), use_container_width=True)


def show_single_network(run: registry.RunInfo) -> None:
    st.markdown(
        _(
            "Architecture **{architecture}** (the *Shape arithmetic* and *Feature maps* pages take it apart). "
            "Trained on FER2013's Training split ({train} faces, with {validation} held out for validation) "
            "with the app's own engine, so you can repeat it with your copy of FER2013: "
            "`python -m fer train --preset {preset}`. For scale: people agree with FER2013's labels "
            "about {agreement} of the time, and the 2013 Kaggle winner scored {winner}. It was trained on photographs: "
            "on the synthetic cartoon faces it does much worse, which is a lesson in itself."
        ).format(
            architecture=run.config.get("architecture", "?"), preset=run.config.get("preset", "shipped-model"),
            train=format_integer(run.config.get("train_images", 0)),
            validation=format_integer(run.config.get("val_images", 0)),
            agreement=format_percent(0.65), winner=format_percent(0.71),
        )
    )
    if run.name == registry.best_shipped():
        st.markdown(_("It is the model every page uses until you train your own."))
    show_cost(run.config.get("cost"))


def show_ensemble(run: registry.RunInfo) -> None:
    members = run.config.get("members", [])
    weights = run.config.get("weights", [])
    st.markdown(
        _(
            "An ensemble of the shipped networks {members}: it averages their probabilities with the weights "
            "{weights}, fitted on the validation faces (carved from Training; PublicTest only judges the "
            "result). Open it on the **Ensembles** page to see how much each member adds, or export it on "
            "**Export and webcam**: the members run as one graph in the browser."
        ).format(
            members=format_list(f"`{member}`" for member in members),
            weights=format_list(format_decimal(weight, 2) for weight in weights),
        )
    )
    cost = members_cost(members)
    if cost:
        st.caption(
            _(
                "Its training is its members': {cpu_hours} CPU-hours in all on an idle 2-core CPU "
                "({hours} hours), each member trained by the engine with its own preset."
            ).format(
                cpu_hours=format_decimal(cost["quiet_cpu_hours"], 1),
                hours=format_decimal(cost["quiet_hours"], 1),
            )
        )


def members_cost(members: list[str]) -> dict | None:
    try:
        return ensemble.training_cost([registry.read_run(member).config for member in members])
    except registry.RegistryError:
        return None


def show_cost(cost: dict | None) -> None:
    if cost:
        slowest, fastest = (round(figure) for figure in (min(cost["machine_images_per_second"]),
                                                         max(cost["machine_images_per_second"])))
        figure = format_integer(slowest) + ("" if slowest == fastest else "–" + format_integer(fastest))
        st.caption(
            _(
                "Its training: {epochs} epochs, {hours} hours on an idle 2-core CPU ({cpu_hours} CPU-hours; "
                "its machines' figure: {figure} images/s for the report-A CNN in `bench/bench_train.py`), "
                "{wall} hours as it actually ran, paused and resumed beside other work."
            ).format(
                epochs=format_integer(cost["epochs"]), hours=format_decimal(cost["quiet_hours"], 1),
                cpu_hours=format_decimal(cost["quiet_cpu_hours"], 1),
                figure=figure,
                wall=format_decimal(cost["wall_clock_hours"], 1),
            )
        )


for run in (run for run in runs if run.shipped):
    st.subheader(_("Shipped with the app: {name}").format(name=run.name))
    show_numbers(run)
    if run.kind == "ensemble":
        show_ensemble(run)
    else:
        show_single_network(run)
