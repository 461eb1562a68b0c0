"""Export and webcam: the student's model leaves Python and runs on their own face, in the browser."""

import streamlit as st
import streamlit.components.v1 as components

from fer import export, registry
from lessons._shared import selected_model_name

st.title("Export and webcam")
st.markdown(
    """
Your network is, in the end, a list of numbers and a recipe for combining them. **TensorFlow.js**
runs the same recipe in a web browser, so the model can work on your own face with no server
doing the maths and no internet connection.

The export takes three steps:

1. Keras writes the model as a TensorFlow **SavedModel** (the computation graph plus the weights).
2. The TF.js converter turns it into a **graph model**: `model.json` (the graph) and binary weight
   shards. Float16 weights halve the download and change the probabilities by about a millionth.
3. The bundle gets a web page that finds your face with the **same Haar cascade** as this app,
   crops it the **same way** (grayscale, square with a margin, 48x48, divided by 255), and shows the
   seven probabilities. `metadata.json` states every one of those numbers.
"""
)

runs = [run for run in registry.list_runs() if run.kind == "keras"]
if not runs:
    st.info(
        "There is no trained model to export yet. Train one on the **Train a network** page "
        "(a few minutes on the built-in synthetic faces), then come back here."
    )
    st.stop()

names = [run.name for run in runs]
preferred = selected_model_name()
name = st.selectbox("Model to export", names, index=names.index(preferred) if preferred in names else 0)
run = runs[names.index(name)]
parameters = run.config.get("parameters")


def weights_label(dtype: str) -> str:
    bytes_per_weight = 4 if dtype == "float32" else 2
    if isinstance(parameters, int):
        return f"{dtype} (about {parameters * bytes_per_weight / 1e6:.2f} MB of weights)"
    return dtype


weights_dtype = st.radio("Weights", export.WEIGHT_DTYPES, format_func=weights_label, horizontal=True)

if st.button("Export to TensorFlow.js", type="primary"):
    with st.status(f"Exporting {name} as {weights_dtype}...", expanded=True) as status:
        bar = st.progress(0.0)
        try:
            result = export.export_for_app(name, weights_dtype, progress=lambda f, m: bar.progress(f, text=m))
        except ValueError as error:
            status.update(label="Export failed", state="error")
            st.error(str(error))
        else:
            status.update(label=f"Exported {name} ({result.model_bytes / 1e6:.2f} MB of model)", state="complete")

folder = export.served_folder(name)
if not (folder / export.METADATA_JSON).exists():
    st.info("Press **Export to TensorFlow.js** to build the bundle; the webcam demo then appears here.")
    st.stop()

try:
    metadata = export.read_bundle_metadata(folder)
except ValueError as error:
    st.error(str(error))
    st.stop()


@st.cache_data(max_entries=4, show_spinner="Zipping the bundle...")
def bundle_zip(path: str, exported: str) -> bytes:
    return export.zip_bundle(path)


columns = st.columns(4)
columns[0].metric("Model (weights + graph)", f"{metadata['weights']['model_bytes'] / 1e6:.2f} MB")
columns[1].metric("Whole bundle", f"{metadata['bundle_bytes'] / 1e6:.1f} MB")
columns[2].metric("Weights", metadata["weights"]["dtype"])
accuracy = metadata.get("test_accuracy")
columns[3].metric("Test accuracy", f"{accuracy:.1%}" if isinstance(accuracy, (int, float)) else "not measured")
check = metadata.get("checked_against_keras", {})
if "max_abs_difference" in check:
    st.caption(
        f"Exported {metadata['exported']}. Checked in Python before shipping: on {check['random_faces']} random "
        f"faces the converted graph and Keras differ by at most {check['max_abs_difference']:.1e} in any probability. "
        "Most of the bundle is the browser libraries (tf.js, opencv.js); the model itself is small."
    )

st.download_button(
    "Download the bundle (.zip)",
    data=bundle_zip(str(folder), metadata["exported"]),
    file_name=f"{name}-tfjs.zip",
    mime="application/zip",
)
with st.expander("Run it without this app"):
    st.markdown(
        f"""
Unzip, then serve the folder with any web server and open it in a browser:

```
cd {name}
python -m http.server 8000
```

and open <http://localhost:8000/>. Browsers give the camera only to `https://` pages and to
`localhost`, so on a shared server use the photo upload, or an https address. Everything the
page needs is inside the folder: it works with the network cable out.
"""
    )

st.subheader("Your model on your face")
st.markdown(
    "Allow the camera when the browser asks. The green box is what the detector found, the blue "
    "square what the model sees; no camera? Drop a photo on the page instead. "
    f"[Open the demo in its own tab]({export.served_url(name)})."
)
# A relative address, so the demo also works when the app is served under a path prefix.
components.iframe(f"{export.served_url(name).lstrip('/')}?v={metadata['exported']}", height=760, scrolling=True)
