"""Finding English left on a page that should read in Chinese: what AppTest shows, and the page's source.

`english_left(text)` returns the English a Chinese reader would still meet in one piece of text.
Allowed: code (`backticks`, code blocks), formulas ($...$ and LaTeX outside \\text{}), addresses,
names of layers and runs (anything with a digit, an underscore or a dot: conv1, float16,
tf.nn.moments), acronyms (CNN, MB), the names in ALLOWED_WORDS (Keras, softmax, valid, ...), and
the English term in parentheses right after its Chinese one at first use: 卷積（convolution）.

`shown_texts(app)` walks an AppTest's element tree: values, labels, help texts, options,
table columns and cells, LaTeX \\text{} pieces, image captions.

`untranslated_literals(path)` reads a page's source: every string literal with English words
that is handed to a Streamlit call without going through _() is reported with its line.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Product names, layer classes, activations and code words that stay in English in a Chinese course.
ALLOWED_WORDS = {
    "Keras", "TensorFlow", "PyTorch", "JAX", "NumPy", "OpenCV", "Streamlit", "Kaggle", "Chromium", "Python",
    "JavaScript", "Haar", "FER", "Fourier",
    "Conv", "Conv2D", "Dense", "Flatten", "Dropout", "BatchNormalization", "BatchNorm", "MaxPooling2D",
    "AveragePooling2D", "ZeroPadding2D", "GlobalAveragePooling2D", "ReLU", "LeakyReLU", "Activation", "Input",
    "InputLayer", "Cropping2D", "Softmax", "softmax", "Sequential",
    "relu", "sigmoid", "tanh", "elu", "linear", "valid", "same", "none",
    "logit", "logits", "SmoothGrad", "Grad", "CAM", "Grad-CAM", "SavedModel", "wasm", "webgl", "cpu",
    "exp", "log", "max", "sum", "floor", "ceil", "onehot", "inf", "nan", "NaN", "sqrt", "eps", "mu", "sigma",
    "gamma", "beta", "rho", "alpha", "yhat", "x_hat", "dL", "dl", "dz", "dx", "dy", "jpg", "png", "jpeg", "zip",
    "input", "units", "https", "http", "localhost", "cd", "out",
}
ACRONYM = re.compile(r"^[A-Z][A-Z0-9]+s?$")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-/']*[A-Za-z0-9]|[A-Za-z]")

_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_INLINE_CODE = re.compile(r"`[^`]*`")
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
_INLINE_MATH = re.compile(r"\$[^$]+\$")
_URL = re.compile(r"(https?://|\?|/app/)\S+")
# The English term in parentheses right after the Chinese one: 卷積（convolution）, 池化 (pooling).
_GLOSS = re.compile(r"(?<=[\u3400-\u9fff])\s*[（(][A-Za-z][^（）()\u3400-\u9fff]*[）)]")
_SCIENTIFIC = re.compile(r"[-+]?\d+(?:\.\d+)?e[-+]?\d+")
_LATEX_TEXT = re.compile(r"\\(?:text|mathrm)\{([^{}]*)\}")


def _allowed(word: str, extra: frozenset[str]) -> bool:
    core = word.strip("'.-/")
    return (
        core in ALLOWED_WORDS
        or core.lower() in ALLOWED_WORDS
        or core in extra
        or ACRONYM.match(core) is not None
        or len(core) == 1  # a variable: m, i, t
        or any(character.isdigit() or character in "_./^" for character in core)  # names, dL/dz, sigma^2
    )


def english_left(text: str, extra: frozenset[str] = frozenset()) -> list[str]:
    """The English words of `text` a Chinese reader should not meet; [] when it is translated."""
    text = _CODE_BLOCK.sub(" ", text)
    text = text.replace("*", "")  # markdown emphasis: **中央有限差分**（central ...) is still a gloss
    text = _SCIENTIFIC.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _DISPLAY_MATH.sub(" ", text)
    text = _INLINE_MATH.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _GLOSS.sub(" ", text)
    words = [word for word in WORD.findall(text) if not _allowed(word, extra)]
    if not words:
        return []
    if not HAN.search(text):
        return words  # a whole label or sentence left in English
    # In Chinese text, a lone English word is a name; two in a row are an English phrase.
    runs = re.findall(r"[A-Za-z][A-Za-z'\-]*(?:[ ,]+[A-Za-z][A-Za-z'\-]*)+", text)
    return [run for run in runs if len([w for w in WORD.findall(run) if not _allowed(w, extra)]) >= 2]


def latex_texts(latex: str) -> list[str]:
    """The words inside \\text{...} of a formula: the only part of LaTeX that is prose."""
    return _LATEX_TEXT.findall(latex)


# Widgets whose value is an id or the student's own input, not a sentence the page wrote.
WIDGETS_WITH_DATA = {
    "Selectbox", "Radio", "Multiselect", "SelectSlider", "Slider", "TextInput", "NumberInput", "TextArea",
    "Checkbox", "Toggle", "DateInput", "TimeInput", "ColorPicker", "ButtonGroup",
}


def shown_texts(app) -> list[str]:
    """Every piece of text the page shows, read from AppTest's element tree."""
    texts: list[str] = []

    def add(value) -> None:
        if isinstance(value, str) and value.strip():
            texts.append(value)

    def walk(node) -> None:
        kind = type(node).__name__
        if kind == "Dataframe":
            frame = node.value
            configured = json.loads(getattr(node.proto, "columns", "") or "{}")  # column_config labels win
            labels = {name: (configured.get(str(name)) or {}).get("label") or name for name in frame.columns}
            texts.extend(str(label) for label in labels.values())
            texts.extend(str(index) for index in frame.index if isinstance(index, str))
            for column in frame.columns:
                texts.extend(value for value in frame[column].tolist() if isinstance(value, str))
        elif kind == "UnknownElement" and hasattr(getattr(node, "proto", None), "spec"):
            texts.extend(chart_texts(node.proto))
        elif kind == "Latex":
            texts.extend(latex_texts(node.value))
        elif kind == "Code":
            pass
        else:
            attributes = ("label", "placeholder", "help") if kind in WIDGETS_WITH_DATA else (
                "value", "label", "placeholder", "help", "caption", "text"
            )
            for attribute in attributes:
                try:
                    add(getattr(node, attribute, None))
                except Exception:  # some elements cannot read every attribute
                    pass
            for attribute in ("options",):
                try:
                    for option in getattr(node, attribute, None) or []:
                        add(option)
                except Exception:
                    pass
            proto = getattr(node, "proto", None)
            for image in getattr(proto, "imgs", []) or []:
                add(image.caption)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app._tree)
    return texts


def chart_texts(proto) -> list[str]:
    """A Vega-Lite chart's titles, sorted category names and the text in its data."""
    import pyarrow

    texts: list[str] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "title" and isinstance(item, str):
                    texts.append(item)
                elif key == "sort" and isinstance(item, list):
                    texts.extend(entry for entry in item if isinstance(entry, str))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(proto.spec))
    for dataset in proto.datasets:
        frame = pyarrow.ipc.open_stream(dataset.data.data).read_pandas()
        for column in frame.columns:
            texts.extend(value for value in frame[column].tolist() if isinstance(value, str))
    return texts


def charts(app) -> list[dict]:
    """The Vega-Lite specifications of every chart on the page."""
    specs = []

    def walk(node) -> None:
        if type(node).__name__ == "UnknownElement" and hasattr(getattr(node, "proto", None), "spec"):
            specs.append(json.loads(node.proto.spec))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app._tree)
    return specs


def untranslated_on_page(app, extra: frozenset[str] = frozenset()) -> list[tuple[str, list[str]]]:
    return [(text, left) for text in shown_texts(app) if (left := english_left(text, extra))]


# ------------------------------------------------------------------------------ the page's source

# Streamlit calls whose string arguments a person reads (whatever object they are called on:
# st.x, a column, a tab, a container).
SHOWN_CALLS = {
    "title", "header", "subheader", "markdown", "caption", "write", "text", "info", "warning", "error",
    "success", "toast", "button", "download_button", "form_submit_button", "link_button", "checkbox", "toggle",
    "radio", "selectbox", "multiselect", "select_slider", "slider", "number_input", "text_input", "text_area",
    "file_uploader", "camera_input", "metric", "expander", "tabs", "spinner", "status", "progress", "image",
    "line_chart", "bar_chart", "page_link", "update", "popover",
}
SHOWN_KEYWORDS = {"label", "help", "placeholder", "caption", "text", "body", "title", "x_label", "y_label",
                  "show_spinner"}
# Arguments that are ids, keys or formats, never read as prose.
HIDDEN_KEYWORDS = {"key", "type", "format", "icon", "mime", "file_name", "language", "state", "width",
                   "vertical_alignment", "on_click", "on_change", "args", "kwargs", "value", "options", "index",
                   "horizontal", "sort", "stack", "height", "clamp", "use_container_width"}


def _has_words(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(english_left(node.value))
    if isinstance(node, ast.JoinedStr):
        text = "".join(value.value if isinstance(value, ast.Constant) else "0" for value in node.values)
        return bool(english_left(text))
    if isinstance(node, ast.BinOp):
        return _has_words(node.left) or _has_words(node.right)
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_has_words(element) for element in node.elts)
    if isinstance(node, ast.IfExp):
        return _has_words(node.body) or _has_words(node.orelse)
    return False


def untranslated_literals(path: Path) -> list[str]:
    """'file:line: text' for every English literal handed to a Streamlit call without _()."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in SHOWN_CALLS:
            continue
        arguments = list(node.args) + [
            keyword.value for keyword in node.keywords if keyword.arg in SHOWN_KEYWORDS or keyword.arg is None
        ]
        for argument in arguments:
            if _has_words(argument):
                found.append(f"{path.name}:{argument.lineno}: {ast.unparse(argument)[:80]}")
    return found
