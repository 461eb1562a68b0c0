import streamlit as st

st.title("webcam")
st.info("This lesson is being written.")
