"""Yearly memory archive ("your year in tango"); only used by the December campaign job."""
from collections import defaultdict

from ..storage import get_archived_posts


def build_year_in_review(user_id, year):
    by_month = defaultdict(list)
    for post in get_archived_posts(user_id=user_id, year=year):
        by_month[post.created_at.month].append(post.to_dict())
    return {"user_id": user_id, "year": year, "months": dict(sorted(by_month.items()))}
