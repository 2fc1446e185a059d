"""run_script: how a tools/ script ends -- its status, or a UserError as one line."""

import pytest

from visionkit.errors import ConfigError, run_script


def test_status_and_one_line_user_error(capsys):
    with pytest.raises(SystemExit) as done:
        run_script(lambda: 0)
    assert done.value.code == 0
    with pytest.raises(SystemExit) as done:
        run_script(lambda: 1)
    assert done.value.code == 1

    def bad():
        raise ConfigError("cfg.yaml: eval.fid_weights is empty")

    with pytest.raises(SystemExit) as done:
        run_script(bad)
    assert done.value.code == 2 and capsys.readouterr().err == "error: cfg.yaml: eval.fid_weights is empty\n"


def test_bugs_keep_their_traceback():
    with pytest.raises(ZeroDivisionError):
        run_script(lambda: 1 / 0)
