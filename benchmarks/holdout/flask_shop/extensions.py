from flask import jsonify
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://")
login_manager = LoginManager()


@login_manager.user_loader
def load_user(user_id):
    from .models import User

    return User.get(int(user_id))


@login_manager.unauthorized_handler
def unauthorized():
    return jsonify(error="authentication required"), 401
