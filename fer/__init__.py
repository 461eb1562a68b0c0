"""FER teaching library: data, networks, training, evaluation, explanation and export.

Nothing here imports streamlit, so every function works from a notebook or the CLI too.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
