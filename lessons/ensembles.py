import streamlit as st

st.title("ensembles")
st.info("This lesson is being written.")
