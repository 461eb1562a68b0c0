"""Export and webcam: the student's model leaves Python and runs on their own face, in the browser."""

import streamlit as st
import streamlit.components.v1 as components

from fer import export
from fer.data import test_accuracy_split
from fer.ensemble_network import parameter_count
from fer.i18n import _, format_datetime, format_decimal, format_percent
from lessons._language import page_language
from lessons._shared import selected_model_name, visible_runs

language = page_language()
st.title(_("Export and webcam"))
st.markdown(
    _(
        "Your network is, in the end, a list of numbers and a recipe for combining them. **TensorFlow.js** "
        "runs the same recipe in a web browser, so the model can work on your own face with no server "
        "doing the maths and no internet connection."
    )
)
st.markdown(
    _("The export takes three steps:")
    + "\n\n1. "
    + _(
        "Keras writes the model as a TensorFlow **SavedModel** (the computation graph plus the weights)."
    )
    + "\n2. "
    + _(
        "The TF.js converter turns it into a **graph model**: `model.json` (the graph) and binary weight "
        "shards. Float16 weights halve the download and change the probabilities by about a millionth."
    )
    + "\n3. "
    + _(
        "The bundle gets a web page that finds your face with the **same Haar cascade** as this app, "
        "crops it the **same way** (grayscale, square with a margin, 48x48, divided by 255), and shows the "
        "seven probabilities. `metadata.json` states every one of those numbers."
    )
)

runs = [run for run in visible_runs() if run.kind in ("keras", "ensemble")]
if not runs:
    st.info(
        _(
            "There is no trained model to export yet. Train one on the **Train a network** page "
            "(a few minutes on the built-in synthetic faces), then come back here."
        )
    )
    st.stop()

names = [run.name for run in runs]
preferred = selected_model_name()
name = st.selectbox(_("Model to export"), names, index=names.index(preferred) if preferred in names else 0)
run = runs[names.index(name)]
parameters = parameter_count(run.name)


def weights_label(dtype: str) -> str:
    bytes_per_weight = 4 if dtype == "float32" else 2
    if isinstance(parameters, int):
        return _("{dtype} (about {megabytes} MB of weights)").format(
            dtype=dtype, megabytes=format_decimal(parameters * bytes_per_weight / 1e6, 2)
        )
    return dtype


def export_with_progress(name: str, weights_dtype: str) -> None:
    with st.status(
        _("Exporting {name} as {dtype}...").format(name=name, dtype=weights_dtype), expanded=True
    ) as status:
        bar = st.progress(0.0)
        try:
            result = export.export_for_app(name, weights_dtype, progress=lambda f, m: bar.progress(f, text=m))
        except ValueError as error:
            status.update(label=_("Export failed"), state="error")
            st.error(str(error))
        else:
            status.update(
                label=_("Exported {name} ({megabytes} MB of model)").format(
                    name=name, megabytes=format_decimal(result.model_bytes / 1e6, 2)
                ),
                state="complete",
            )


if export.shipped_bundle(name):
    st.caption(_(
        "This model's bundle ships with the app, already exported and checked against Keras, and everyone "
        "using the app shares it: it is shown below as it is. To try other weights, export it into a folder "
        "of your own: `python -m fer export {name} FOLDER --float16`."
    ).format(name=name))
else:
    weight_labels = {dtype: weights_label(dtype) for dtype in export.WEIGHT_DTYPES}
    weights_dtype = st.radio(
        _("Weights"), export.WEIGHT_DTYPES, format_func=weight_labels.__getitem__, horizontal=True
    )
    if st.button(_("Export to TensorFlow.js"), type="primary"):
        export_with_progress(name, weights_dtype)

folder = export.serve_shipped_bundle(name)
if not (folder / export.METADATA_JSON).exists():
    st.info(_("Press **Export to TensorFlow.js** to build the bundle; the webcam demo then appears here."))
    st.stop()

try:
    metadata = export.read_bundle_metadata(folder)
except ValueError as error:
    st.error(str(error))
    st.stop()


@st.cache_data(max_entries=4, show_spinner=False)
def bundle_zip(path: str, exported: str) -> bytes:
    return export.zip_bundle(path)


columns = st.columns(4)
columns[0].metric(
    _("Model (weights + graph)"), format_decimal(metadata["weights"]["model_bytes"] / 1e6, 2) + " MB"
)
columns[1].metric(_("Whole bundle"), format_decimal(metadata["bundle_bytes"] / 1e6, 1) + " MB")
columns[2].metric(_("Weights"), metadata["weights"]["dtype"])
accuracy = metadata.get("test_accuracy")
split = test_accuracy_split(run.config, run.metrics)
columns[3].metric(
    _("Accuracy on {split}").format(split=split),
    format_percent(accuracy, 1) if isinstance(accuracy, (int, float)) else _("not measured"),
)
check = metadata.get("checked_against_keras", {})
if "max_abs_difference" in check:
    st.caption(
        _(
            "Exported {date}. Checked in Python before shipping: on {faces} random faces the converted graph "
            "and Keras differ by at most {difference} in any probability. "
            "Most of the bundle is the browser libraries (tf.js, opencv.js); the model itself is small."
        ).format(
            date=format_datetime(metadata["exported"]), faces=check["random_faces"],
            difference=f"{check['max_abs_difference']:.1e}",
        )
    )

with st.spinner(_("Zipping the bundle...")):
    archive = bundle_zip(str(folder), metadata["exported"])
st.download_button(
    _("Download the bundle (.zip)"),
    data=archive,
    file_name=f"{name}-tfjs.zip",
    mime="application/zip",
)
with st.expander(_("Run it without this app")):
    st.markdown(
        _("Unzip, then serve the folder with any web server and open it in a browser:")
        + f"\n\n```\ncd {name}\npython -m http.server 8000\n```\n\n"
        + _(
            "and open <http://localhost:8000/>. Browsers give the camera only to `https://` pages and to "
            "`localhost`, so on a shared server use the photo upload, or an https address. Everything the "
            "page needs is inside the folder: it works with the network cable out."
        )
    )

st.subheader(_("Your model on your face"))
# The demo page reads its sentences from the bundle's i18n/<language>.json: it is told the language.
demo_url = f"{export.served_url(name)}?lang={language}"
st.markdown(
    _(
        "Allow the camera when the browser asks. The green box is what the detector found, the blue "
        "square what the model sees; no camera? Drop a photo on the page instead. "
        "[Open the demo in its own tab]({url})."
    ).format(url=demo_url)
)
# A relative address, so the demo also works when the app is served under a path prefix.
components.iframe(
    f"{export.served_url(name).lstrip('/')}?v={metadata['exported']}&lang={language}", height=760, scrolling=True
)
