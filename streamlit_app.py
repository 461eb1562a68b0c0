"""The FER course: one Streamlit app, one page per lesson, a sidebar shared by all of them."""

import streamlit as st

from lessons._shared import render_sidebar

st.set_page_config(page_title="Facial expressions with CNNs", page_icon="🙂", layout="wide")

PAGES = {
    "Start": [
        st.Page("lessons/home.py", title="Home", icon="🏠", default=True),
        st.Page("lessons/data.py", title="Your data", icon="🗂️"),
    ],
    "Build": [
        st.Page("lessons/shapes.py", title="Shape arithmetic", icon="📐"),
        st.Page("lessons/batchnorm.py", title="BatchNorm backprop", icon="🧮"),
        st.Page("lessons/softmax.py", title="Softmax + cross-entropy", icon="📊"),
    ],
    "Train": [
        st.Page("lessons/train.py", title="Train a network", icon="🏋️"),
        st.Page("lessons/cnn_vs_dnn.py", title="CNN versus DNN", icon="⚖️"),
    ],
    "Analyse": [
        st.Page("lessons/confusion.py", title="Confusion matrix", icon="🔲"),
        st.Page("lessons/ensembles.py", title="Ensembles and TTA", icon="🤝"),
        st.Page("lessons/saliency.py", title="Saliency maps", icon="🔥"),
        st.Page("lessons/filters.py", title="Filter visualisation", icon="🧩"),
        st.Page("lessons/feature_maps.py", title="Feature maps", icon="🗺️"),
    ],
    "Deploy": [
        st.Page("lessons/webcam.py", title="Export and webcam", icon="📷"),
    ],
}

navigation = st.navigation(PAGES)
render_sidebar()
navigation.run()
