import streamlit as st

st.title("confusion")
st.info("This lesson is being written.")
