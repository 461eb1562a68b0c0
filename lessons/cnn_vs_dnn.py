import streamlit as st

st.title("cnn_vs_dnn")
st.info("This lesson is being written.")
