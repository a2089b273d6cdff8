"""Streamlit entry point: the router only. Pages live in app_pages/."""

import streamlit as st

st.set_page_config(page_title="processmining", page_icon="🔀", layout="wide")

pages = [
    st.Page("app_pages/load.py", title="Load", icon="📂", default=True),
]
st.navigation(pages).run()
