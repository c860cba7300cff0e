import shlex
import subprocess

from audit.codemods.quote_shell_arguments import QuoteShellArgumentsCommand as Command

SOURCE = '''
    import os
    import subprocess
    from flask import Blueprint, request
    bp = Blueprint("admin", __name__)
    BACKUPS = "/tmp"

    @bp.route("/backup", methods=["POST"])
    def backup():
        name = request.get_json().get("name", "manual")
        label = name.strip()
        subprocess.run(f"echo {BACKUPS} > {BACKUPS}/{label}.sql", shell=True, check=True)
        os.system(f"echo '{name}'")
        subprocess.run(f"echo {name}", check=True)
        return "ok"

    def not_a_route(name):
        subprocess.run(f"echo {name}", shell=True)
    '''


def test_request_data_in_a_shell_command_line_is_one_quoted_word(apply_with_notes):
    out, context = apply_with_notes(Command, SOURCE)
    assert 'subprocess.run(f"echo {BACKUPS} > {BACKUPS}/{shlex.quote(str(label))}.sql", shell=True, check=True)' in out
    assert "import shlex" in out
    assert "os.system(f\"echo '{name}'\")" in out  # inside the command's own quotes: a human's
    assert 'subprocess.run(f"echo {name}", check=True)' in out  # no shell
    assert 'subprocess.run(f"echo {name}", shell=True)' in out  # not a route handler
    assert any("quoted" in w for w in context.warnings) and any("inside quotes" in w for w in context.warnings)
    assert apply_with_notes(Command, out)[0] == out


def test_the_quoted_word_is_the_value_whatever_it_holds(tmp_path):
    for value in ("report-2024", "probe name 1", f"x; touch {tmp_path}/pwned", f"$(touch {tmp_path}/pwned)"):
        done = subprocess.run(f"printf %s {shlex.quote(str(value))} > {tmp_path}/out", shell=True, check=True)
        assert done.returncode == 0 and (tmp_path / "out").read_text() == value
    assert not (tmp_path / "pwned").exists()
