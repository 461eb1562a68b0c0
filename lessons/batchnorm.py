import streamlit as st

st.title("batchnorm")
st.info("This lesson is being written.")
