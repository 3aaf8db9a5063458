"""The app as served in production, plus a bare endpoint to compare against (benchmarks only)."""
from outreach import create_app

app = create_app()


@app.get("/bench/bare")
def bare():
    return "ok"
