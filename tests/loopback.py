"""The tests' own small web servers (identity providers, key sets, metadata): each serves a WSGI
application on a free port of 127.0.0.1, in a thread, until it is shut down."""

import threading

import werkzeug.serving


class QuietHandler(werkzeug.serving.WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


def serve(app) -> tuple[werkzeug.serving.BaseWSGIServer, threading.Thread]:
    """``app`` served on 127.0.0.1 (``server.server_port``); ``server.shutdown()`` and
    ``thread.join()`` stop it."""
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread
