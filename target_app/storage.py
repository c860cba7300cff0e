"""Data access used by the older route modules (posts, groups, users, notifications, auth).

Newer modules talk to the session directly; we never finished moving everything over.
"""
from sqlalchemy import delete, func, select

from .db import db_session
from .models import Follow, Group, GroupMember, Like, Notification, PasswordReset, Post, User


# --- users -----------------------------------------------------------------

def get_user(user_id):
    return db_session.get(User, user_id)


def get_user_by_username(username):
    return db_session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def get_user_by_email(email):
    return db_session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def get_users(city=None, limit=50):
    stmt = select(User).where(User.is_banned.is_(False)).order_by(User.id).limit(limit)
    if city:
        stmt = stmt.where(User.city == city)
    return db_session.execute(stmt).scalars().all()


def create_user(**fields):
    user = User(**fields)
    db_session.add(user)
    db_session.commit()
    return user


def save_reset_token(user_id, token):
    db_session.add(PasswordReset(user_id=user_id, token=token))
    db_session.commit()


def follow(follower_id, followed_id):
    exists = db_session.execute(
        select(Follow).where(Follow.follower_id == follower_id, Follow.followed_id == followed_id)
    ).scalar_one_or_none()
    if exists is None:
        db_session.add(Follow(follower_id=follower_id, followed_id=followed_id))
        follower = get_user(follower_id)
        notify(followed_id, "follow", f"{follower.username} started following you")
        db_session.commit()


def unfollow(follower_id, followed_id):
    db_session.execute(delete(Follow).where(Follow.follower_id == follower_id, Follow.followed_id == followed_id))
    db_session.commit()


def get_followers(user_id):
    stmt = select(User).join(Follow, Follow.follower_id == User.id).where(Follow.followed_id == user_id)
    return db_session.execute(stmt).scalars().all()


# --- posts -----------------------------------------------------------------

def get_posts(limit=20, before_id=None):
    stmt = select(Post).where(Post.visibility == "public").order_by(Post.id.desc()).limit(limit)
    if before_id:
        stmt = stmt.where(Post.id < before_id)
    return db_session.execute(stmt).scalars().all()


def get_post(post_id):
    return db_session.get(Post, post_id)


def create_post(user_id, content, visibility="public", image_url=None):
    post = Post(user_id=user_id, content=content, visibility=visibility, image_url=image_url)
    db_session.add(post)
    db_session.commit()
    return post


def save_post(post):
    db_session.add(post)
    db_session.commit()
    return post


def delete_post(post_id, user_id):
    post = get_post(post_id)
    if post is None:
        raise LookupError(f"post {post_id} does not exist")
    if post.user_id != user_id:
        raise PermissionError(f"user {user_id} cannot delete post {post_id}")
    db_session.execute(delete(Like).where(Like.post_id == post_id))
    db_session.delete(post)
    db_session.commit()


def toggle_like(post_id, user_id):
    like = db_session.execute(
        select(Like).where(Like.post_id == post_id, Like.user_id == user_id)
    ).scalar_one_or_none()
    post = get_post(post_id)
    if like is None:
        db_session.add(Like(post_id=post_id, user_id=user_id))
        post.likes_count = (post.likes_count or 0) + 1
        liked = True
    else:
        db_session.delete(like)
        post.likes_count = max((post.likes_count or 1) - 1, 0)
        liked = False
    db_session.commit()
    return liked


# --- groups ----------------------------------------------------------------

def get_groups():
    return db_session.execute(select(Group).order_by(Group.name)).scalars().all()


def get_group(group_id):
    return db_session.get(Group, group_id)


def create_group(name, owner_id, description="", city=None):
    group = Group(name=name, description=description, city=city, owner_id=owner_id)
    group.members.append(GroupMember(user_id=owner_id, role="admin"))
    db_session.add(group)
    db_session.commit()
    return group


def is_group_member(group_id, user_id):
    stmt = select(func.count()).select_from(GroupMember).where(
        GroupMember.group_id == group_id, GroupMember.user_id == user_id
    )
    return db_session.execute(stmt).scalar_one() > 0


def join_group(group_id, user_id):
    if not is_group_member(group_id, user_id):
        db_session.add(GroupMember(group_id=group_id, user_id=user_id))
        db_session.commit()


def leave_group(group_id, user_id):
    db_session.execute(
        delete(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
    )
    db_session.commit()


def get_group_members(group_id):
    stmt = select(User).join(GroupMember, GroupMember.user_id == User.id).where(GroupMember.group_id == group_id)
    return db_session.execute(stmt).scalars().all()


# --- notifications ---------------------------------------------------------

def notify(user_id, kind, text):
    db_session.add(Notification(user_id=user_id, kind=kind, text=text))


def get_notifications(user_id, limit=50):
    stmt = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return db_session.execute(stmt).scalars().all()


def mark_notification_read(notification_id, user_id):
    note = db_session.get(Notification, notification_id)
    if note is None or note.user_id != user_id:
        return None
    note.read = True
    db_session.commit()
    return note


def mark_all_read(user_id):
    notes = db_session.execute(
        select(Notification).where(Notification.user_id == user_id, Notification.read.is_(False))
    ).scalars().all()
    for note in notes:
        note.read = True
    db_session.commit()
    return len(notes)


def count_unread(user_id):
    stmt = select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read.is_(False)
    )
    return db_session.execute(stmt).scalar_one()
