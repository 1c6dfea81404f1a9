"""The bare endpoint every HTTP benchmark is compared with: Flask + psycopg, one indexed SELECT per request."""

from __future__ import annotations

import os

from flask import Flask, jsonify
from psycopg_pool import ConnectionPool

app = Flask(__name__)
pool = ConnectionPool(os.environ["BASELINE_DATABASE_URL"], min_size=2, max_size=4, open=True)


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/items/<int:item_id>")
def item(item_id: int):
    with pool.connection() as connection:
        row = connection.execute("SELECT id, name, price FROM items WHERE id = %s", (item_id,)).fetchone()
    if row is None:
        return jsonify(error="not found"), 404
    return jsonify(id=row[0], name=row[1], price=row[2])
