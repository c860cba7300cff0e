"""The main user journeys (sign up, log in, post, comment, groups, messages, search,
upload, notifications, chat) for every app under test and every way of authenticating."""
import pytest

from journeys import JOURNEYS


@pytest.mark.parametrize("journey", sorted(JOURNEYS))
def test_journey(journey, app_under_test, auth):
    JOURNEYS[journey](app_under_test, auth)
