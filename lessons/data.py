import streamlit as st

st.title("data")
st.info("This lesson is being written.")
