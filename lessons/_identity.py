"""Who is using the app: the seam between pages and the class server's sign-in.

Laptop mode (the default): one user, no sign-in, allowed everything. Class mode (README,
"Running a class server"): a student signs in with their name and code, the teacher with the
password from `.streamlit/secrets.toml`; the user lives in this browser session's state, never
in a URL that can be shared. A reload or a new tab is a new session: sign in again.

Pages ask only `current_user()` and `may(...)`; how a user signed in, and where accounts
live (fer.accounts), is not their business.
"""

from __future__ import annotations

import threading

import streamlit as st

from fer import permissions
from fer.accounts import LAPTOP, LAPTOP_USER, STUDENT, TEACHER, Accounts, User  # noqa: F401 (re-exported)
from fer.classroom import ClassSettings, ClassSettingsError
from fer.i18n import _

USER_KEY = "signed_in_user"


def class_settings() -> ClassSettings:
    """This server's settings (fer.classroom); a ClassSettingsError when they cannot be read."""
    return ClassSettings.from_sources(read_secrets(st.secrets))


def read_secrets(store) -> dict:
    """Streamlit's secrets as a dict: {} when there is no secrets file at all, an error when one cannot be read."""
    try:
        return store.to_dict()
    except FileNotFoundError as error:  # Streamlit's StreamlitSecretNotFoundError, for every kind of trouble
        if getattr(error, "error_id", None) == "no-secrets-found":
            return {}  # laptop mode, unless FER_CLASS_MODE says otherwise
        raise ClassSettingsError(
            _("{error}: fix the file (README, \"Running a class server\").").format(error=error)
        ) from None


def class_mode() -> bool:
    return class_settings().class_mode


_ACCOUNTS: dict = {}  # one Accounts per file for the whole server: its tables are made once, not per page run
_ACCOUNTS_LOCK = threading.Lock()


def accounts() -> Accounts:
    path = Accounts.default_path()
    with _ACCOUNTS_LOCK:
        if path not in _ACCOUNTS or not path.exists():
            _ACCOUNTS[path] = Accounts(path)
        return _ACCOUNTS[path]


def signed_in_user() -> User | None:
    """The user of this session: laptop mode's one user, or whoever signed in (None: nobody yet)."""
    if not class_mode():
        return LAPTOP_USER
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, User) else None


def current_user() -> User:
    """The user of this browser session; a page run by someone not signed in stops here."""
    user = signed_in_user()
    if user is None:
        st.warning(_("This is a class server: sign in first."))
        st.stop()
    return user


def sign_in(user: User) -> None:
    st.session_state[USER_KEY] = user


def sign_out() -> None:
    """Forget everything this session held, so the next person at this browser starts clean."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def may(action: str, run_name: str, owner: str | None) -> str | None:
    """None when the current user may `action` the run; else the sentence saying why not."""
    return permissions.refusal(current_user(), action, run_name, owner)


def sees_others_runs() -> bool:
    """Whether this user sees runs of other students (the teacher chooses; laptop and teacher: always)."""
    user = current_user()
    return user.role != STUDENT or accounts().others_runs_visible
