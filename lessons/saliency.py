import streamlit as st

st.title("saliency")
st.info("This lesson is being written.")
