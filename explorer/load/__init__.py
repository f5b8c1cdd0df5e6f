"""Load runs on Locust, from one request or a collection (docs/LOAD.md).

    plan.py        LoadPlan: the requests and identities (from a URL or a collection), guard rails
    locustfile.py  the generated, readable locustfile (`--export-locustfile F`)
    hooks.py       what that locustfile calls inside Locust: the engine's credentials, the request
                   budget, failures named by finding code (imported only in Locust's processes)
    runner.py      Locust as child processes in their own process group (local, or master + workers)
    stats.py       Locust's own CSV statistics, read back (totals, per request, failures, per second)
    report.py      the report: console lines, JSON, thresholds
    cli.py         `python -m explorer load …`

Nothing here but hooks.py imports Locust: gevent's monkey-patching stays in the child processes.
"""
