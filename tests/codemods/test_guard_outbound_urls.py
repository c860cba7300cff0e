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
