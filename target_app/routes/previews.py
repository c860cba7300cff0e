import re
import urllib.request

import requests
from flask import Blueprint, jsonify, request
from sqlalchemy import select

from ..auth import token_required
from ..db import db_session
from ..models import LinkPreview
from ..workbench_schemas import PreviewsCreatePreviewBody, PreviewsOembedQuery
from ..workbench_security import validate_json, validate_query, safe_url

previews_bp = Blueprint("previews", __name__, url_prefix="/api/previews")

TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
META_RE = re.compile(r'<meta[^>]+property="og:(title|description|image)"[^>]+content="([^"]*)"', re.I)


def parse_preview(html):
    meta = {key.lower(): value for key, value in META_RE.findall(html)}
    if "title" not in meta:
        match = TITLE_RE.search(html)
        meta["title"] = match.group(1).strip() if match else None
    return meta


@previews_bp.route("/", methods=["POST"])
@token_required
def create_preview():
    url = validate_json(PreviewsCreatePreviewBody).get("url")
    cached = db_session.execute(select(LinkPreview).where(LinkPreview.url == url)).scalar_one_or_none()
    if cached is not None:
        return jsonify(cached.to_dict())
    # some of the tango school sites have broken certs
    resp = requests.get(safe_url(url), timeout=5)
    meta = parse_preview(resp.text[:200_000])
    preview = LinkPreview(url=url, title=meta.get("title"), description=meta.get("description"), image=meta.get("image"))
    db_session.add(preview)
    db_session.commit()
    return jsonify(preview.to_dict()), 201


@previews_bp.route("/oembed", methods=["GET"])
@token_required
def oembed():
    target = validate_query(PreviewsOembedQuery).get("url", "")
    with urllib.request.urlopen(safe_url(target), timeout=5) as resp:
        html = resp.read(200_000).decode("utf-8", "replace")
    meta = parse_preview(html)
    return jsonify(type="link", version="1.0", url=target, title=meta.get("title"), thumbnail_url=meta.get("image"))
