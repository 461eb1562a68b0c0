import streamlit as st

st.title("feature_maps")
st.info("This lesson is being written.")
