#!/usr/bin/env python3
"""A merchant's webhook endpoint for the notify tests, on 127.0.0.1 only.

Usage: webhook_server.py DIR [CERT.pem]. With a PEM holding a certificate
and its key it speaks HTTPS. Writes DIR/port once listening; answers each
POST with the next status in DIR/statuses (one a line; 200 once they run
out) and logs every request as a JSON line to DIR/requests. While DIR/delay
holds a number of seconds, each answer waits that long after the request is
logged to DIR/started (a notification in flight). Stops by itself
after 120 s, so a test that dies never leaves it behind for long.
"""
import http.server, json, os, ssl, sys, threading, time

work = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        delay = os.path.join(work, "delay")
        if os.path.exists(delay):
            with open(os.path.join(work, "started"), "a") as f:
                f.write(self.headers.get("Wpay-Event-Id", "") + "\n")
            with open(delay) as f:
                time.sleep(float(f.read().strip() or "0"))
        status = 200
        path = os.path.join(work, "statuses")
        if os.path.exists(path):
            with open(path) as f:
                lines = f.read().split()
            if lines:
                status = int(lines[0])
                with open(path, "w") as f:
                    f.write("\n".join(lines[1:]))
        with open(os.path.join(work, "requests"), "a") as f:
            f.write(json.dumps({"path": self.path, "status": status,
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body.decode()}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 2:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(os.path.join(work, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(work, "port.tmp"), os.path.join(work, "port"))
threading.Timer(120, server.shutdown).start()
server.serve_forever()
