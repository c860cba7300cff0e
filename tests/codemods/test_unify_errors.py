import textwrap

from audit.codemods.unify_errors import UnifyErrorsCommand as Command


def test_error_returns_use_the_envelope_and_drop_exception_text(apply):
    out = apply(Command, '''
        from flask import jsonify, abort

        def view():
            try:
                work()
            except ValueError as exc:
                return jsonify(error="invalid", details=exc.errors()), 400
            except KeyError as e:
                abort(400, str(e))
            except Exception as e:
                return jsonify({"error": str(e)}), 500
            if missing:
                return jsonify({"msg": "Not here", "code": "gone"}), 404
            return jsonify(ok=True), 200
        ''')
    assert 'return error_response(400, "invalid", code="validation_error", details=exc.errors())' in out
    assert "return error_response(500)\n" in out
    assert 'return error_response(404, "Not here", code="gone")' in out
    assert "abort(400)" in out
    assert "return jsonify(ok=True), 200" in out


def test_exception_text_without_status_is_a_500(apply):
    out = apply(Command, "def v():\n    try:\n        f()\n    except Exception as e:\n        return {'error': repr(e)}\n")
    assert "return error_response(500)" in out


def test_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        from workbench_security import error_response

        def view():
            return error_response(404, "post not found")
        ''')
    assert apply(Command, source) == source


def test_refusals_raise_so_guards_still_read_as_guards(apply):
    out = apply(Command, '''
        def wrapper(*args, **kwargs):
            if not token:
                return jsonify(error="missing token"), 401
            if not admin:
                return {"error": "admin only"}, 403
            return view(*args, **kwargs)
        ''')
    assert 'raise Unauthorized("missing token")' in out and 'raise Forbidden("admin only")' in out
    assert "from werkzeug.exceptions import Forbidden, Unauthorized" in out


def test_error_handlers_answer_with_the_envelope_never_raise(apply):
    out = apply(Command, '''
        def register_error_handlers(app):
            @app.errorhandler(401)
            def unauthorized(e):
                return jsonify(error="authentication required"), 401

        @login_manager.unauthorized_handler
        def need_login():
            return jsonify(error="log in first"), 401

        def forbidden(e):
            return {"error": "no"}, 403
        app.register_error_handler(403, forbidden)

        def guard():
            return {"error": "authentication required"}, 401
        ''')
    assert 'return error_response(401, "authentication required")' in out
    assert 'return error_response(401, "log in first")' in out
    assert 'return error_response(403, "no")' in out
    assert 'raise Unauthorized("authentication required")' in out  # a guard still refuses by raising


def test_a_missing_request_field_is_a_validation_error(apply):
    out = apply(Command, '''
        @bp.post("/upload")
        def upload():
            f = request.files.get("file")
            if f is None:
                return jsonify(error="file is required"), 400
            if "title" not in request.form:
                return {"error": "title is required"}, 400
            if len(f.filename) > 100:
                return {"error": "name too long"}, 400
            a = request.files.get("avatar")
            if a is None or a.filename == "":
                return {"error": "no file"}, 400
            if a is None or len(a.filename) > 9:
                return {"error": "bad file"}, 400
        ''')
    assert ('return error_response(400, "file is required", code="validation_error", details=[{"field": "file", '
            '"message": "Field required", "type": "missing"}])') in out
    assert 'details=[{"field": "title"' in out
    assert 'return error_response(400, "name too long")' in out
    assert 'return error_response(400, "no file", code="validation_error", details=[{"field": "avatar"' in out
    assert 'return error_response(400, "bad file")' in out  # not only a missing file


ROUTE_WITH_CATCH_ALL = '''
    import os
    from flask import Blueprint, jsonify
    from . import storage
    from .db import db
    bp = Blueprint("posts", __name__)

    @bp.route("/posts/<int:post_id>", methods=["DELETE"])
    def delete_post(post_id):
        try:
            storage.delete_post(post_id)
        except Exception as e:
            db.session.rollback()
            logger.exception("delete failed: %s", e)
            return jsonify(error=str(e)), 500
        return jsonify(deleted=post_id)

    def not_a_route():
        try:
            storage.delete_post(1)
        except Exception as e:
            return jsonify(error=str(e)), 500
    '''


def test_a_catch_all_500_lets_permission_and_lookup_errors_answer_403_and_404(apply_with_notes):
    out, context = apply_with_notes(Command, ROUTE_WITH_CATCH_ALL)
    route = out[out.index("def delete_post"):out.index("def not_a_route")]
    assert ("    except PermissionError:\n        db.session.rollback()\n        return error_response(403)\n"
            "    except LookupError:\n        db.session.rollback()\n        return error_response(404)\n"
            "    except Exception as e:\n") in route  # the work is kept, the log call is not copied
    assert "return error_response(500)" in route
    helper = out[out.index("def not_a_route"):]
    assert "PermissionError" not in helper  # only route handlers answer clients
    assert any("PermissionError" in w for w in context.warnings)
    assert apply_with_notes(Command, out)[0] == out  # idempotent: the clauses are there now


def test_catch_all_rules_respect_earlier_clauses_and_other_statuses(apply):
    source = ROUTE_WITH_CATCH_ALL.replace("except Exception as e:\n", "except OSError:\n            return jsonify(error='io'), 503\n        except Exception as e:\n", 1)
    route = apply(Command, source)
    assert "except PermissionError" not in route and "except LookupError:" in route  # OSError covers it
    degraded = apply(Command, ROUTE_WITH_CATCH_ALL.replace("str(e)), 500", "'later'), 503"))
    assert "LookupError" not in degraded  # a 503 fallback is a choice, not a crash
    # a file the server cannot write is the server's error, and so is anything the
    # project's own modules are not called for
    files = apply(Command, ROUTE_WITH_CATCH_ALL.replace("storage.delete_post(post_id)", "os.makedirs('/b'); storage.delete_post(post_id)", 1))
    assert "PermissionError" not in files[:files.index("def not_a_route")]
    foreign = apply(Command, ROUTE_WITH_CATCH_ALL.replace("storage.delete_post(post_id)", "cleanup(post_id)", 1))
    assert "PermissionError" not in foreign
