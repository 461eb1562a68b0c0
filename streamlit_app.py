"""The FER course: one Streamlit app, one page per lesson, a sidebar shared by all of them.

On a class server (README, "Running a class server") nobody sees a lesson before signing in,
and the teacher gets one more page, Your class.
"""

import streamlit as st

from fer.classroom import ClassSettingsError
from lessons._identity import class_mode, signed_in_user
from lessons._language import language_switch, page_language
from lessons._shared import render_sidebar

st.set_page_config(page_title="Facial expressions with CNNs", page_icon="🙂", layout="wide")
page_language()  # before any page is built: the link, the sidebar switch or the browser decides

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
        st.Page("lessons/competition.py", title="Class competition", icon="🏆"),
        st.Page("lessons/saliency.py", title="Saliency maps", icon="🔥"),
        st.Page("lessons/filters.py", title="Filter visualisation", icon="🧩"),
        st.Page("lessons/feature_maps.py", title="Feature maps", icon="🗺️"),
    ],
    "Deploy": [
        st.Page("lessons/webcam.py", title="Export and webcam", icon="📷"),
    ],
}

try:
    user = signed_in_user()
except ClassSettingsError as error:  # never fall back to laptop mode: that would open everything to the class
    st.error(f"This server's class settings cannot be used: {error}")
    st.stop()

if user is None:
    navigation = st.navigation([st.Page("lessons/sign_in.py", title="Sign in", icon="🔑", default=True)])
    navigation.run()
    st.stop()

pages = PAGES
if class_mode() and user.is_teacher:
    pages = {**PAGES, "Teach": [st.Page("lessons/teacher.py", title="Your class", icon="🧑‍🏫")]}
navigation = st.navigation(pages)
render_sidebar()
with st.sidebar:
    language_switch()
navigation.run()
