"""The FER course: one Streamlit app, one page per lesson, a sidebar shared by all of them.

On a class server (README, "Running a class server") nobody sees a lesson before signing in,
and the teacher gets one more page, Your class.
"""

import streamlit as st

from fer import backends
from fer.classroom import ClassSettingsError
from fer.i18n import _, pgettext
from lessons._identity import class_mode, signed_in_user
from lessons._language import language_switch, page_language
from lessons._shared import render_sidebar

page_language()  # before any page is built: the link, the sidebar switch or the browser decides
st.set_page_config(page_title=_("Facial expressions with CNNs"), page_icon="🙂", layout="wide")

# Section names and page titles in the reader's language; each page keeps its file as its address.
PAGES = {
    pgettext("navigation", "Start"): [
        st.Page("lessons/home.py", title=_("Home"), icon="🏠", default=True),
        st.Page("lessons/data.py", title=_("Your data"), icon="🗂️"),
    ],
    _("Build"): [
        st.Page("lessons/shapes.py", title=_("Shape arithmetic"), icon="📐"),
        st.Page("lessons/batchnorm.py", title=_("BatchNorm backprop"), icon="🧮"),
        st.Page("lessons/softmax.py", title=_("Softmax + cross-entropy"), icon="📊"),
    ],
    _("Train"): [
        st.Page("lessons/train.py", title=_("Train a network"), icon="🏋️"),
        st.Page("lessons/cnn_vs_dnn.py", title=_("CNN versus DNN"), icon="⚖️"),
    ],
    _("Analyse"): [
        st.Page("lessons/confusion.py", title=_("Confusion matrix"), icon="🔲"),
        st.Page("lessons/ensembles.py", title=_("Ensembles and TTA"), icon="🤝"),
        st.Page("lessons/competition.py", title=_("Class competition"), icon="🏆"),
        st.Page("lessons/saliency.py", title=_("Saliency maps"), icon="🔥"),
        st.Page("lessons/filters.py", title=_("Filter visualisation"), icon="🧩"),
        st.Page("lessons/feature_maps.py", title=_("Feature maps"), icon="🗺️"),
    ],
    _("Deploy"): [
        st.Page("lessons/webcam.py", title=_("Export and webcam"), icon="📷"),
    ],
}

try:
    user = signed_in_user()
except ClassSettingsError as error:  # never fall back to laptop mode: that would open everything to the class
    st.error(_("This server's class settings cannot be used: {error}").format(error=error))
    st.stop()

if user is None:
    navigation = st.navigation([st.Page("lessons/sign_in.py", title=_("Sign in"), icon="🔑", default=True)])
    navigation.run()
    st.stop()

pages = PAGES
if class_mode() and user.is_teacher:
    pages = {**PAGES, _("Teach"): [st.Page("lessons/teacher.py", title=_("Your class"), icon="🧑‍🏫")]}
# Every lesson listed: the course's table of contents, and no "View N more" that only Streamlit can word.
navigation = st.navigation(pages, expanded=True)
render_sidebar()
with st.sidebar:
    language_switch()
backends.import_keras_once()  # the first session imports it; the others wait for it, not beside it
navigation.run()
