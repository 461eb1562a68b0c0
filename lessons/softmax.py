import streamlit as st

st.title("softmax")
st.info("This lesson is being written.")
