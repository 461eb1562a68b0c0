"""Class mode in the app (AppTest): nothing but Sign in before signing in, a name alone or a wrong code never
signs in, identity never read from the URL, the Train page's buttons follow the run's owner (and the server
refuses a forged click), the teacher manages any run and the roster, hides runs, and the Your data page
names no server path outside the teacher's folders. Laptop mode stays as it was: no sign-in."""

import pytest
from streamlit.testing.v1 import AppTest

from fer import registry
from fer.accounts import SIGN_IN_REFUSED, Accounts
from tests.conftest import REPO_ROOT
from tests.models import save_tiny_run

PASSWORD = "a long class passphrase"
SHIPPED = "pretrained-tiny"  # a tiny run standing in for the shipped model


@pytest.fixture
def roster(isolated_folders) -> dict[str, str]:
    """Ana and Ben on the roster of this test's data folder; returns their codes."""
    return Accounts.default().add_students(["Ana Lima", "Ben Okafor"])


@pytest.fixture
def runs(isolated_folders) -> None:
    save_tiny_run("ana-run", owner="Ana Lima")
    save_tiny_run("ben-run", owner="Ben Okafor")
    save_tiny_run(SHIPPED)


def class_app(**settings) -> AppTest:
    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=120)
    app.secrets["fer"] = {"class_mode": True, "teacher_password": PASSWORD, **settings}
    app.run()
    assert not app.exception
    return app


def click(app: AppTest, label: str) -> AppTest:
    next(button for button in app.button if button.label == label).click().run()
    assert not app.exception, app.exception
    return app


def sign_in_student(app: AppTest, name: str, code: str) -> AppTest:
    app.text_input(key="sign_in_name").input(name)
    app.text_input(key="sign_in_code").input(code)
    return click(app, "Sign in")


def sign_in_teacher(app: AppTest, password: str = PASSWORD) -> AppTest:
    app.text_input(key="sign_in_password").input(password)
    return click(app, "Sign in as the teacher")


def titles(app: AppTest) -> list[str]:
    return [title.value for title in app.title]


def texts(app: AppTest) -> str:
    return " ".join(str(element.value) for kind in ("markdown", "caption", "error", "warning", "info", "success")
                    for element in app.get(kind))


def open_page(app: AppTest, page: str) -> AppTest:
    app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    return app


def test_only_the_sign_in_page_before_signing_in(roster):
    app = class_app()
    assert titles(app) == ["Sign in"]
    assert not app.sidebar.selectbox  # no data set, no model: nothing of the course yet


@pytest.mark.parametrize("name, code", [("Ana Lima", ""), ("Ana Lima", "ben"), ("Ana Lima", None), ("Carla", None)])
def test_a_name_alone_or_someone_elses_code_never_signs_in(roster, name, code):
    app = sign_in_student(class_app(), name, roster["Ben Okafor"] if code is None else code)
    assert titles(app) == ["Sign in"]
    assert [error.value for error in app.error] == [SIGN_IN_REFUSED]
    assert "signed_in_user" not in app.session_state


def test_a_wrong_teacher_password_does_not_sign_in(roster):
    app = sign_in_teacher(class_app(), "a long class passphrase!")
    assert titles(app) == ["Sign in"]
    assert [error.value for error in app.error] == ["That is not the teacher password of this server."]


def test_a_student_signs_in_and_the_url_never_names_them(roster, runs):
    app = class_app()
    app.query_params["owner"] = "Ben Okafor"  # an old link carrying someone else's token
    sign_in_student(app, "ana lima", roster["Ana Lima"].upper())
    assert "Signed in as **Ana Lima**" in " ".join(markdown.value for markdown in app.sidebar.markdown)
    open_page(app, "lessons/train.py")
    assert "owner" not in app.query_params
    assert app.session_state["signed_in_user"].name == "Ana Lima"
    table = app.dataframe[-1].value
    assert dict(zip(table["name"], table["owner"])) == {"ana-run": "Ana Lima", "ben-run": "Ben Okafor",
                                                        SHIPPED: "shipped"}
    # Students do not get the teacher's page.
    assert "Your class" not in texts(app)


def rename_and_delete_state(app: AppTest, run: str) -> dict:
    app.selectbox(key="train_chosen_run").select(run).run()
    assert not app.exception
    return {
        "rename": not app.button(key="train_rename_button").disabled,
        "new name": not app.text_input(key="train_new_name").disabled,
        "confirm delete": not app.checkbox(key="train_confirm_delete").disabled,
    }


def test_train_page_buttons_follow_the_owner(roster, runs):
    app = open_page(sign_in_student(class_app(), "Ana Lima", roster["Ana Lima"]), "lessons/train.py")
    assert rename_and_delete_state(app, "ana-run") == {"rename": True, "new name": True, "confirm delete": True}
    assert rename_and_delete_state(app, "ben-run") == {"rename": False, "new name": False, "confirm delete": False}
    assert "ben-run is Ben Okafor's run: only its owner or the teacher may rename or delete it." in texts(app)
    assert rename_and_delete_state(app, SHIPPED) == {"rename": False, "new name": False, "confirm delete": False}
    assert f"{SHIPPED} is a shipped model and read-only for everyone" in texts(app)


def forged_click(app: AppTest, key: str) -> AppTest:
    """What a hand-made websocket message can do: press a button the page shows disabled."""
    button = app.button(key=key)
    button.proto.disabled = False
    return button.click().run()


def test_the_server_asks_again_at_the_click(roster, runs):
    """A button's state is only a hint: Streamlit drops a forged click on a disabled one, and the callbacks
    ask fer.permissions again with the owner on disk at the moment of the click."""
    app = open_page(sign_in_student(class_app(), "Ana Lima", roster["Ana Lima"]), "lessons/train.py")
    app.selectbox(key="train_chosen_run").select("ben-run").run()
    app.session_state["train_confirm_delete"] = True
    forged_click(app, "train_delete_button")
    assert not app.exception and "ben-run" in [run.name for run in registry.list_runs()]

    # Rendered as Ana's, Ben's by the time she clicks (she deleted hers in another tab, Ben renamed his to it).
    assert rename_and_delete_state(app, "ana-run")["confirm delete"]
    app.checkbox(key="train_confirm_delete").check().run()
    registry.delete_run("ana-run")
    registry.rename_run("ben-run", "ana-run")
    app.button(key="train_delete_button").click().run()
    assert "ana-run is Ben Okafor's run: only its owner or the teacher may delete it." in texts(app)
    assert sorted(run.name for run in registry.list_runs()) == ["ana-run", SHIPPED]
    assert registry.read_run("ana-run").owner == "Ben Okafor"

    save_tiny_run("ana-second", owner="Ana Lima")
    app.run()
    assert rename_and_delete_state(app, "ana-second")["rename"]
    app.text_input(key="train_new_name").input("ana-renamed")
    registry.delete_run("ana-second")
    save_tiny_run("ana-second", owner="Ben Okafor")
    app.button(key="train_rename_button").click().run()
    assert "ana-second is Ben Okafor's run: only its owner or the teacher may rename it." in texts(app)
    assert sorted(run.name for run in registry.list_runs()) == ["ana-run", "ana-second", SHIPPED]


def test_the_teacher_renames_and_deletes_any_run_but_not_the_shipped_one(roster, runs):
    app = open_page(sign_in_teacher(class_app()), "lessons/train.py")
    assert rename_and_delete_state(app, SHIPPED) == {"rename": False, "new name": False, "confirm delete": False}
    assert rename_and_delete_state(app, "ben-run") == {"rename": True, "new name": True, "confirm delete": True}
    app.text_input(key="train_new_name").input("ben-run-checked").run()
    app.button(key="train_rename_button").click().run()
    assert not app.exception and not app.error
    assert registry.read_run("ben-run-checked").owner == "Ben Okafor"  # still Ben's
    app.selectbox(key="train_chosen_run").select("ben-run-checked").run()
    app.checkbox(key="train_confirm_delete").check().run()
    app.button(key="train_delete_button").click().run()
    assert not app.exception and not app.error
    assert sorted(run.name for run in registry.list_runs()) == ["ana-run", SHIPPED]


def code_tables(app: AppTest) -> list:
    return [frame.value for frame in app.dataframe if list(frame.value.columns) == ["name", "code"]]


def test_the_teacher_adds_students_whose_codes_sign_in(isolated_folders):
    app = open_page(sign_in_teacher(class_app()), "lessons/teacher.py")
    assert titles(app) == ["Your class"]
    app.text_area(key="teacher_names").input("Carla Nunes\nDev Patel\n").run()
    click(app, "Add them and make their codes")
    codes = code_tables(app)[0]
    assert list(codes["name"]) == ["Carla Nunes", "Dev Patel"]
    click(app, "Done: hide the codes")
    assert code_tables(app) == []
    student = sign_in_student(class_app(), "Dev Patel", codes["code"][1])
    assert "Signed in as **Dev Patel**" in " ".join(markdown.value for markdown in student.sidebar.markdown)


def test_the_teacher_hides_students_runs_from_each_other(roster, runs):
    teacher = open_page(sign_in_teacher(class_app()), "lessons/teacher.py")
    teacher.toggle(key="teacher_others_visible").set_value(False).run()
    assert not teacher.exception and Accounts.default().others_runs_visible is False
    app = open_page(sign_in_student(class_app(), "Ana Lima", roster["Ana Lima"]), "lessons/train.py")
    assert set(app.dataframe[-1].value["name"]) == {"ana-run", SHIPPED}
    assert set(app.sidebar.selectbox(key="sidebar_model").options) == {"ana-run", SHIPPED}
    teacher.toggle(key="teacher_others_visible").set_value(True).run()
    app = open_page(sign_in_student(class_app(), "Ana Lima", roster["Ana Lima"]), "lessons/train.py")
    assert set(app.dataframe[-1].value["name"]) == {"ana-run", "ben-run", SHIPPED}


def everything_sent(app: AppTest) -> str:
    """Every element's message as the browser would get it (text, options, table bytes), as one string."""
    found = []

    def walk(node) -> None:
        if getattr(node, "proto", None) is not None:
            found.append(str(node.proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app._tree)
    return "\n".join(found)


@pytest.mark.parametrize("page", ["lessons/home.py", "lessons/confusion.py", "lessons/ensembles.py",
                                  "lessons/webcam.py", "lessons/cnn_vs_dnn.py", "lessons/competition.py"])
def test_hidden_runs_stay_hidden_on_every_page_that_lists_models(roster, runs, page):
    save_tiny_run("ben-second", owner="Ben Okafor")
    Accounts.default().others_runs_visible = False
    app = open_page(sign_in_student(class_app(), "Ana Lima", roster["Ana Lima"]), page)
    sent = everything_sent(app)
    assert "ben-run" not in sent and "ben-second" not in sent
    Accounts.default().others_runs_visible = True
    app = open_page(sign_in_student(class_app(), "Ana Lima", roster["Ana Lima"]), page)
    assert "ben-run" in everything_sent(app) or page in ("lessons/home.py", "lessons/cnn_vs_dnn.py")


def test_the_teacher_deletes_any_data_set_and_a_student_only_their_own(roster, runs):
    import numpy as np

    from fer import data

    for name, owner in (("ana-faces", "Ana Lima"), ("ben-faces", "Ben Okafor")):
        data.save_cache(name, np.zeros((8, 48, 48), np.uint8), np.arange(8, dtype=np.uint8) % 7,
                        np.array(["Training"] * 6 + ["PublicTest"] * 2))
        Accounts.default().record_dataset(name, owner)
    ana = open_page(sign_in_student(class_app(), "Ana Lima", roster["Ana Lima"]), "lessons/data.py")
    assert ana.selectbox(key="data_delete_dataset_name").options == ["ana-faces"]
    teacher = open_page(sign_in_teacher(class_app()), "lessons/teacher.py")
    chooser = teacher.selectbox(key="teacher_delete_dataset_name")
    assert chooser.options == ["ana-faces", "ben-faces"]
    chooser.set_value("ben-faces").run()
    assert teacher.button(key="teacher_delete_dataset_button").disabled
    teacher.checkbox(key="teacher_delete_dataset_confirm").check().run()
    teacher.button(key="teacher_delete_dataset_button").click().run()
    assert not teacher.exception, teacher.exception
    assert data.available_datasets() == [data.SYNTHETIC, "ana-faces"]
    assert Accounts.default().dataset_owner("ben-faces") is None
    assert teacher.selectbox(key="teacher_delete_dataset_name").options == ["ana-faces"]
    assert not teacher.checkbox(key="teacher_delete_dataset_confirm").value  # ticked again for the next one


def test_the_teachers_page_is_the_teachers(roster):
    app = sign_in_student(class_app(), "Ana Lima", roster["Ana Lima"])
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("lessons/teacher.py")  # not among a student's pages at all


# ----------------------------------------------------------------------------- server paths on the data page


def test_class_mode_imports_uploads_only_by_default(roster):
    app = open_page(sign_in_student(class_app(), "Ana Lima", roster["Ana Lima"]), "lessons/data.py")
    assert [element.key for element in app.text_input if element.key == "data_path"] == []
    assert all(element.key != "data_import_path" for element in app.button)
    assert "give its path" not in texts(app)


def test_class_mode_paths_only_below_the_teachers_folders(roster, tmp_path):
    from tests.test_data_page import write_csv

    allowed = tmp_path / "class-data"
    allowed.mkdir()
    write_csv(allowed / "faces.csv", 21)
    app = open_page(sign_in_student(class_app(allowed_folders=[str(allowed)]), "Ana Lima", roster["Ana Lima"]),
                    "lessons/data.py")
    for outside in ("/etc/passwd", str(allowed / ".." / "data")):
        app.text_input(key="data_path").input(outside).run()
        app.button(key="data_import_path").click().run()
        assert not app.exception
        assert any("is not below a folder this class server opens to browsers" in error.value for error in app.error)
        assert "root:" not in texts(app)
    app.text_input(key="data_path").input("faces.csv").run()
    app.button(key="data_import_path").click().run()
    assert not app.exception and not app.error, [error.value for error in app.error]
    assert Accounts.default().dataset_owner("faces") == "Ana Lima"
    # Ben may not replace Ana's data set under its name, and keeps his own beside it.
    app = open_page(sign_in_student(class_app(allowed_folders=[str(allowed)]), "Ben Okafor", roster["Ben Okafor"]),
                    "lessons/data.py")
    app.text_input(key="data_path").input("faces.csv").run()
    app.button(key="data_import_path").click().run()
    assert [error.value for error in app.error] == [
        "A data set called faces is already here, imported by Ana Lima: type another name in the app to import "
        "yours beside it."]
    app.text_input(key="data_name").input("ben-faces").run()
    app.button(key="data_import_path").click().run()
    assert not app.error and Accounts.default().dataset_owner("ben-faces") == "Ben Okafor"


def test_laptop_mode_signs_nobody_in(runs):
    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=120)
    app.run()
    assert titles(app) == ["Facial expressions with convolutional networks"]
    app = open_page(app, "lessons/train.py")
    assert "owner" not in app.dataframe[-1].value.columns
    assert rename_and_delete_state(app, "ben-run") == {"rename": True, "new name": True, "confirm delete": True}
    assert "Signed in as" not in " ".join(markdown.value for markdown in app.sidebar.markdown)


def test_broken_class_settings_stop_the_app_instead_of_opening_it(isolated_folders):
    app = class_app(allowed_folders=["relative/folder"])
    assert titles(app) == []
    assert ["not an absolute path" in error.value for error in app.error] == [True]


@pytest.fixture
def secrets_files():
    """Point Streamlit's secrets at the given files for one test, then back."""
    from streamlit import config

    before = config.get_option("secrets.files")
    yield lambda paths: config.set_option("secrets.files", [str(path) for path in paths])
    config.set_option("secrets.files", before)


def test_a_secrets_file_that_cannot_be_read_is_an_error_and_none_is_laptop_mode(tmp_path, secrets_files):
    from streamlit.runtime.secrets import Secrets

    from fer.classroom import ClassSettingsError
    from lessons._identity import read_secrets

    broken = tmp_path / "secrets.toml"
    broken.write_text("[fer\nclass_mode = true\n")  # a teacher's typo must not open the server in laptop mode
    secrets_files([broken])
    with pytest.raises(ClassSettingsError, match="Error parsing secrets file"):
        read_secrets(Secrets())
    secrets_files([tmp_path / "absent.toml"])
    assert read_secrets(Secrets()) == {}
    broken.write_text('[fer]\nclass_mode = true\nteacher_password = "pw"\n')
    secrets_files([broken])
    assert read_secrets(Secrets())["fer"]["class_mode"] is True
