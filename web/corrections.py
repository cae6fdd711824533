from flask import Blueprint

bp = Blueprint("corrections", __name__)
