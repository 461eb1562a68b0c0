"""Sign in to a class server: students with their name and code, the teacher with the password."""

import time

import streamlit as st

from fer.accounts import AccountError, sign_in_teacher
from fer.i18n import _
from lessons._identity import accounts, class_settings, sign_in
from lessons._language import page_language

FAILED_PAUSE_SECONDS = 1.0  # after a wrong code or password: guessing gets slow, typing does not

page_language()
st.title(_("Sign in"))
st.markdown(
    _(
        "This app runs on a class server: your runs and trainings are kept under your name. "
        "Sign in with your name and the code your teacher gave you."
    )
)

student_tab, teacher_tab = st.tabs([_("Student"), _("Teacher")])
with student_tab, st.form("sign_in_student"):
    name = st.text_input(_("Your name"), key="sign_in_name", max_chars=60)
    code = st.text_input(_("Your code"), key="sign_in_code", type="password", max_chars=60,
                         help=_("As on your slip, e.g. k7qm-x2fp-9hdt (capitals and dashes do not matter)."))
    student_clicked = st.form_submit_button(_("Sign in"), type="primary")
with teacher_tab, st.form("sign_in_teacher"):
    password = st.text_input(_("Teacher password"), key="sign_in_password", type="password", max_chars=200)
    teacher_clicked = st.form_submit_button(_("Sign in as the teacher"))

try:
    if student_clicked:
        sign_in(accounts().sign_in_student(name, code))
        st.rerun()
    if teacher_clicked:
        sign_in(sign_in_teacher(password, class_settings().teacher_password))
        st.rerun()
except AccountError as error:
    time.sleep(FAILED_PAUSE_SECONDS)
    st.error(str(error))
