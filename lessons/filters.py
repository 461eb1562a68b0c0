import streamlit as st

st.title("filters")
st.info("This lesson is being written.")
