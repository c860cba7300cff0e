import textwrap

from audit.codemods.remove_mock_data import RemoveMockDataCommand as Command

SOURCE = '''
from flask import Blueprint, jsonify
bp = Blueprint("x", __name__)

MOCK_EVENTS = [{"id": 1, "title": "A"}, {"id": 2, "title": "B"}]
PAGE_SIZE = 20


@bp.route("/events")
def events():
    try:
        rows = load()
    except Exception:
        return jsonify(MOCK_EVENTS)
    if not rows:
        return jsonify([{"id": 0, "name": "placeholder"}])
    return jsonify(rows)
'''


def test_fallbacks_become_explicit_errors_and_the_constant_goes(apply):
    out = apply(Command, SOURCE)
    assert 'return error_response(503, "This data is not available right now.")' in out
    assert 'return error_response(404, "Not found.")' in out
    assert "MOCK_EVENTS" not in out
    assert "PAGE_SIZE = 20" in out
    assert "return jsonify(rows)" in out


def test_constant_imported_elsewhere_is_kept(apply):
    out = apply(Command, SOURCE, imported_names=frozenset({"MOCK_EVENTS"}))
    assert "MOCK_EVENTS = [" in out


def test_real_data_unchanged(apply):
    source = textwrap.dedent('''
        @bp.route("/p/<int:i>")
        def post(i):
            return jsonify({"id": i, "title": load(i).title})
        ''')
    assert apply(Command, source) == source


def test_made_up_figures_and_sample_constants_become_503(apply):
    out = apply(Command, '''
        SAMPLE_SUMMARY = {"orders": 1280, "top_items": [{"name": "Blue widget", "sold": 310}]}
        DEFAULTS = {"page": 1, "per_page": 20}

        @bp.route("/summary")
        def summary():
            return SAMPLE_SUMMARY

        @bp.route("/stats")
        def stats():
            return jsonify({"notes": 42, "users": 7, "attachments": 3})

        @bp.route("/counts")
        def counts():
            return jsonify(projects=1200, tasks=48000)

        @bp.route("/paging")
        def paging():
            return jsonify({"page": 1, "limit": 50}), DEFAULTS
        ''')
    assert out.count('return error_response(503, "This data is not available right now.")') == 3
    assert "SAMPLE_SUMMARY" not in out
    assert 'return jsonify({"page": 1, "limit": 50}), DEFAULTS' in out and "DEFAULTS = {" in out


def test_an_error_envelopes_details_are_not_mock_data(apply):
    source = textwrap.dedent('''
        @bp.post("/upload")
        def upload():
            if request.files.get("file") is None:
                return error_response(400, "file is required", code="validation_error", details=[{"field": "file", "message": "Field required", "type": "missing"}])
            return {"ok": True}
        ''')
    assert apply(Command, source) == source
