import streamlit as st

st.title("shapes")
st.info("This lesson is being written.")
