"""Home: what the course is, the lessons in order, the data set and the models in use."""

import altair as alt
import pandas as pd
import streamlit as st

from fer import data, registry
from lessons._shared import selected_dataset, selected_model_name, show_sample_faces, visible_runs

SAMPLES_PER_CLASS = 8

st.title("Facial expressions with convolutional networks")
st.markdown(
    """
A hands-on course on convolutional networks, built around one real task: telling which of
seven expressions a 48x48 grayscale face shows. You will work out layer shapes by hand, derive
the gradients of BatchNorm and softmax, train networks on your CPU or GPU and watch them learn,
take them apart to see what they look at, and finally run your own model on your own face in
the browser.

The course grew out of two students' homework reports on FER2013 from a university
machine-learning course in Taiwan, written for a Kaggle in-class competition: **report A**
(PyTorch, four convolution blocks, about 0.60 validation accuracy) and **report B** (Keras, a
CNN of 4,087,323 parameters scoring 0.65 on the public leaderboard, and a dense network of the
same size). Every question they answer, you will answer for your own model.
"""
)

LESSONS = [
    ("lessons/data.py", "Your data", "bring FER2013, or use the built-in synthetic faces"),
    ("lessons/shapes.py", "Shape arithmetic", "output shapes and parameter counts, checked against Keras"),
    ("lessons/batchnorm.py", "BatchNorm backprop", "the hand-derived gradient against autodiff"),
    ("lessons/softmax.py", "Softmax + cross-entropy", "why the gradient is simply yhat - y"),
    ("lessons/train.py", "Train a network", "live loss and accuracy charts, on CPU or GPU"),
    ("lessons/cnn_vs_dnn.py", "CNN versus DNN", "why convolution wins on faces"),
    ("lessons/confusion.py", "Confusion matrix", "which expressions get mixed up, down to the images"),
    ("lessons/ensembles.py", "Ensembles and TTA", "several models and flipped copies vote"),
    ("lessons/competition.py", "Class competition", "a public leaderboard now, the private one at the end"),
    ("lessons/saliency.py", "Saliency maps", "which pixels the decision rests on"),
    ("lessons/filters.py", "Filter visualisation", "what each filter is looking for"),
    ("lessons/feature_maps.py", "Feature maps", "one face, layer by layer"),
    ("lessons/webcam.py", "Export and webcam", "your model on your face, in the browser, offline"),
]

st.header("The lessons, in order")
for number, (page, title, summary) in enumerate(LESSONS, start=1):
    st.page_link(page, label=f"{number}. {title}: {summary}")

dataset = selected_dataset()
st.header("The data set in use")
if dataset.synthetic:
    st.warning(
        "These are **synthetic faces** drawn by the app, so every page works on a fresh machine. "
        "They are not photographs. Bring FER2013 (the Kaggle `fer2013.csv` or its image "
        "folders) on the **Your data** page to train on real faces."
    )
st.caption(dataset.description)

split_labels = [dataset.split_label(split) for split in dataset.split_names]
counts = pd.DataFrame(
    [
        {"expression": emotion, "split": label, "faces": int(count)}
        for split, label in zip(dataset.split_names, split_labels)
        for emotion, count in zip(data.EMOTIONS, dataset.class_counts(split))
    ]
)
st.altair_chart(
    alt.Chart(counts)
    .mark_bar()
    .encode(
        x=alt.X("expression:N", sort=list(data.EMOTIONS), title=None),
        y=alt.Y("faces:Q", title="faces"),
        color=alt.Color("split:N", sort=split_labels),
        xOffset=alt.XOffset("split:N", sort=split_labels),
        tooltip=["expression", "split", "faces"],
    )
    .properties(height=260),
    width="stretch",
)

st.subheader("Sample faces per expression")
show_sample_faces(dataset, SAMPLES_PER_CLASS)

st.header("Models")
runs = visible_runs()
if not runs:
    st.info(
        f"No trained model yet in `{registry.models_dir()}`. Train one on the "
        "**Train a network** page, or with `python -m fer train`."
    )
else:
    in_use = selected_model_name()
    table = pd.DataFrame(
        [
            {
                "model": run.name,
                "in use": "✔" if run.name == in_use else "",
                "architecture": run.config.get("architecture", ""),
                "trained on": run.config.get("dataset", ""),
                "accuracy": run.metrics.get("test_accuracy"),
                "measured on": (
                    data.test_accuracy_split(run.config, run.metrics) if "test_accuracy" in run.metrics else ""
                ),
                "shipped with the app": "✔" if run.shipped else "",
            }
            for run in runs
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={"accuracy": st.column_config.NumberColumn(format="percent")},
    )
    st.caption(
        f"Models live in `{registry.models_dir()}`, one folder per run. Accuracy is measured on the split "
        "named beside it: FER2013's PublicTest where the data set has it (PrivateTest is kept for the "
        "private leaderboard of a class competition), else the data set's test split."
    )

for run in (run for run in runs if run.shipped):
    public = run.metrics.get("public_test", {})
    st.subheader(f"Shipped with the app: {run.name}")
    if "accuracy" in public:
        by_tta = public.get("accuracy_by_tta", {})
        columns = st.columns(3)
        columns[0].metric("FER2013 PublicTest accuracy", f"{public['accuracy']:.1%}")
        if "flip" in by_tta:
            columns[1].metric("with flip TTA", f"{by_tta['flip']:.1%}")
        columns[2].metric("parameters", f"{run.config.get('parameters', 0):,}")
    st.markdown(
        f"""
Architecture **{run.config.get("architecture", "?")}** (the *Shape arithmetic* and *Feature maps*
pages take it apart). Trained on FER2013's Training split ({run.config.get("train_images", 0):,} faces, with
{run.config.get("val_images", 0):,} held out for validation) with the app's own engine, so you
can repeat it with your copy of FER2013: `python -m fer train --preset shipped-model`. For scale:
people agree with FER2013's labels about 65% of the time, and the 2013 Kaggle winner scored 71%.
It was trained on photographs: on the synthetic cartoon faces it does much worse, which is a
lesson in itself. It is the model every page uses until you train your own.
"""
    )
