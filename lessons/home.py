import streamlit as st

st.title("Facial expressions with convolutional networks")
st.info("The home page is being written.")
