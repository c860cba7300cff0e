import textwrap

from audit.codemods.guard_outbound_urls import GuardOutboundUrlsCommand as Command


def test_request_urls_go_through_safe_url(apply):
    out = apply(Command, '''
        import requests, urllib.request, httpx
        from flask import request

        def preview():
            url = request.json.get("url")
            target = url.strip()
            requests.get(target, timeout=5, verify=False)
            urllib.request.urlopen(request.args["u"])
            httpx.request("GET", url)
            requests.get("https://api.example.com/status")
        ''')
    assert "requests.get(safe_url(target), timeout=5)" in out
    assert 'urllib.request.urlopen(safe_url(request.args["u"]))' in out
    assert 'httpx.request("GET", safe_url(url))' in out
    assert 'requests.get("https://api.example.com/status")' in out


def test_already_secure_unchanged(apply):
    source = textwrap.dedent('''
        import requests
        from flask import request
        from workbench_security import safe_url

        def preview():
            return requests.get(safe_url(request.args["u"]), timeout=5).text
        ''')
    assert apply(Command, source) == source


def test_request_data_passed_to_a_project_function_that_fetches_it(apply):
    fetchers = (("previews", "fetch_title", 0, "url"), ("routes.hooks", "relay", 1, "target"))
    out = apply(Command, '''
        from flask import request
        from previews import fetch_title
        from . import hooks
        import previews as p

        def link_preview():
            url = request.get_json()["url"]
            fetch_title(url)
            p.fetch_title(url=url)
            hooks.relay({"a": 1}, request.args["to"])
            fetch_title("https://example.com/")
        ''', file="routes/views.py", module="routes.views", url_fetchers=fetchers)
    assert "\n    fetch_title(safe_url(url))" in out
    assert "p.fetch_title(url=safe_url(url))" in out
    assert 'hooks.relay({"a": 1}, safe_url(request.args["to"]))' in out
    assert 'fetch_title("https://example.com/")' in out  # not from the request


def test_project_scan_finds_functions_that_fetch_their_parameter():
    from audit.codemods._project_scan import scan_project

    scan = scan_project({
        "previews.py": "import requests\ndef fetch_title(url):\n    return requests.get(url, timeout=5)\n"
                       "def status(base):\n    return requests.get(f'{base}/status')\n",
        "hooks/__init__.py": "import httpx, urllib.request\ndef relay(payload, target):\n"
                             "    httpx.post(url=target, json=payload)\n"
                             "def raw(u):\n    return urllib.request.urlopen(u)\n",
    })
    assert scan.url_fetchers == (("hooks", "raw", 0, "u"), ("hooks", "relay", 1, "target"),
                                 ("previews", "fetch_title", 0, "url"))


def test_a_catch_all_around_the_fetch_lets_the_guards_400_through(apply):
    out = apply(Command, '''
        def preview():
            try:
                return requests.get(request.args["u"], timeout=5).text
            except Exception:
                return {"error": "fetch failed"}, 502
        ''')
    assert ("requests.get(safe_url(request.args[\"u\"]), timeout=5).text\n    except HTTPException:\n        raise\n"
            "    except Exception:") in out
    assert "from werkzeug.exceptions import HTTPException" in out
    assert apply(Command, out) == out


def test_unverified_tls_contexts_verify_again(apply):
    out = apply(Command, 'import ssl\nsmtp.starttls(context=ssl._create_unverified_context())\nctx.verify_mode = ssl.CERT_NONE\n')
    assert "smtp.starttls(context=ssl.create_default_context())" in out
    assert "ctx.verify_mode = ssl.CERT_REQUIRED" in out
