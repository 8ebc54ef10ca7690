"""gunicorn settings for the benchmarks' portal (`--config python:apps.demo.gunicorn_bench`): every worker also
serves the floor's no-op interface."""


def post_worker_init(worker) -> None:
    from apps.demo.floor import floor_register  # after the worker loaded the WSGI app, i.e. after django.setup()

    floor_register()
