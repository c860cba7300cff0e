"""Demo data for local development and the test suite (`python -m legacy_app seed`)."""
from datetime import timedelta

from sqlalchemy import func, select

from .auth import hash_password
from .db import db_session, drop_all
from .models import Comment, Event, Follow, Group, GroupMember, Message, Notification, Post, User, utcnow

DEMO_PASSWORD = "Correct-Horse-9-Battery"
ADMIN_PASSWORD = "Admin-Tango-2023-Rocks"

DEMO_USERS = [
    # (username, email, display name, city)
    ("admin", "admin@tangocommunity.app", "Community Team", "Buenos Aires"),
    ("lucia.baila", "lucia@example.com", "Lucia", "Buenos Aires"),
    ("tomas_ochos", "tomas@example.com", "Tomas", "Montevideo"),
    ("anke.berlin", "anke@example.com", "Anke", "Berlin"),
    ("marco.milonga", "marco@example.com", "Marco", "Rome"),
    ("sofia.vals", "sofia@example.com", "Sofia", "Madrid"),
    ("dev.mobile", "mobile-dev@tangocommunity.app", "Mobile Dev", "Lisbon"),
    ("kenji.abrazo", "kenji@example.com", "Kenji", "Tokyo"),
]


def seed_demo_data(reset=False):
    """Insert the demo users, groups, posts and events; returns a short summary or None."""
    if reset:
        drop_all()
    if db_session.execute(select(func.count()).select_from(User)).scalar_one():
        return None

    demo_hash = hash_password(DEMO_PASSWORD)
    users = []
    for username, email, display_name, city in DEMO_USERS:
        is_admin = username == "admin"
        users.append(
            User(
                username=username,
                email=email,
                display_name=display_name,
                city=city,
                is_admin=is_admin,
                password_hash=hash_password(ADMIN_PASSWORD) if is_admin else demo_hash,
            )
        )
    db_session.add_all(users)
    db_session.flush()
    admin, lucia, tomas, anke, marco, sofia, _mobile, kenji = users

    groups = [
        Group(name="Buenos Aires Milongueros", description="Where to dance tonight in BA", city="Buenos Aires", owner_id=lucia.id),
        Group(name="Berlin Tango Nights", description="Practicas and milongas in Berlin", city="Berlin", owner_id=anke.id),
        Group(name="Beginners Corner", description="Questions welcome, no judgement", city=None, owner_id=admin.id),
    ]
    db_session.add_all(groups)
    db_session.flush()
    for group in groups:
        db_session.add(GroupMember(group_id=group.id, user_id=group.owner_id, role="admin"))
    db_session.add_all([GroupMember(group_id=groups[0].id, user_id=tomas.id), GroupMember(group_id=groups[2].id, user_id=kenji.id)])

    posts = [
        Post(user_id=lucia.id, content="Danced until sunrise at La Viruta, my feet hate me"),
        Post(user_id=tomas.id, content="Looking for a practica partner in Montevideo on Tuesdays"),
        Post(user_id=anke.id, content="Berlin summer milonga at the Clärchens Ballhaus this weekend"),
        Post(user_id=marco.id, content="Tango nuevo vs salon: the eternal debate, discuss"),
        Post(user_id=sofia.id, content="My first vals! Recorded it, will share once I stop cringing", visibility="friends"),
        Post(user_id=kenji.id, content="Tokyo tango festival line-up is out"),
    ]
    db_session.add_all(posts)
    db_session.flush()
    db_session.add_all(
        [
            Comment(post_id=posts[0].id, user_id=tomas.id, body="Legendary. Same thing happened to me last year"),
            Comment(post_id=posts[1].id, user_id=lucia.id, body="Ask at the Tuesday practica at Joven Tango"),
            Follow(follower_id=tomas.id, followed_id=lucia.id),
            Follow(follower_id=anke.id, followed_id=lucia.id),
            Message(sender_id=tomas.id, recipient_id=lucia.id, body="Are you going to the festival?"),
            Notification(user_id=lucia.id, kind="comment", text="tomas_ochos commented on your memory"),
        ]
    )
    now = utcnow()
    db_session.add_all(
        [
            Event(title="Milonga de los Viernes", city="Buenos Aires", venue="Salon Canning", starts_at=now + timedelta(days=3), host_id=lucia.id),
            Event(title="Sunday Practica", city="Berlin", venue="Tangoloft", starts_at=now + timedelta(days=5), host_id=anke.id),
        ]
    )
    db_session.commit()
    return f"{len(users)} users, {len(groups)} groups, {len(posts)} posts, 2 events"
