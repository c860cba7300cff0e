from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_socketio import SocketIO

socketio = SocketIO(async_mode="threading")
limiter = Limiter(get_remote_address, app=None, storage_uri="memory://")
