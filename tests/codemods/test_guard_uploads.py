import textwrap

from audit.codemods.guard_uploads import GuardUploadsCommand as Command


def test_saved_upload_is_checked_and_renamed(apply):
    out = apply(Command, '''
        def upload():
            f = request.files.get("file")
            if f is None or f.filename == "":
                return {"error": "no file"}, 400
            path = os.path.join(FOLDER, secure_filename(f.filename))
            f.save(path)
            return {"name": f.filename}
        ''')
    assert 'if f is None or f.filename == "":' in out  # the check stays on the client's name
    assert "safe_name = validate_upload(f, max_bytes=MAX_UPLOAD_BYTES)\n    path = os.path.join(FOLDER, safe_name)" in out
    assert 'return {"name": safe_name}' in out


def test_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        def upload():
            f = request.files["file"]
            safe_name = validate_upload(f, max_bytes=MAX_UPLOAD_BYTES)
            f.save(os.path.join(FOLDER, safe_name))
        ''')
    assert apply(Command, source) == source
