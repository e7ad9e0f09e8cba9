"""GET /: a small form for loan officers (it calls the JSON API with their key)."""

from __future__ import annotations

from flask import Blueprint, render_template

from loanops.schema import APPLICATION_COLUMNS, BY_NAME, Kind

bp = Blueprint(
    "web",
    __name__,
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static",
)


@bp.get("/")
def form() -> str:
    """The application form."""
    fields = [
        {"name": name, "kind": BY_NAME[name].kind.value, "help": BY_NAME[name].description}
        for name in APPLICATION_COLUMNS
        if BY_NAME[name].kind != Kind.LABEL
    ]
    return render_template("index.html", fields=fields)
