"""A JSON Web Key Set served over HTTPS on loopback, for the Google key tests.

    python3 jwks_https_server.py DIR

Makes a test CA and a certificate for 127.0.0.1 signed by it (DIR/ca.pem), and a second,
unrelated CA (DIR/other-ca.pem), with the openssl command. Then serves GET on any path
over HTTPS: the body is DIR/jwks.json, with `Cache-Control: public, max-age=N` where N is
read from DIR/max-age, after sleeping DIR/delay seconds if that file exists (to make
concurrent fetches overlap). Every request is counted into DIR/requests. The port goes
to DIR/port once the server listens. SIGTERM stops it.
"""
import http.server
import os
import ssl
import subprocess
import sys
import threading
import time

directory = sys.argv[1]


def path(name):
    return os.path.join(directory, name)


def write_atomically(name, text):
    with open(path(name + ".tmp"), "w") as f:
        f.write(text)
    os.replace(path(name + ".tmp"), path(name))


def openssl(*arguments):
    subprocess.run(["openssl", *arguments], check=True, capture_output=True)


def make_certificates():
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-keyout", path(ca + ".key"), "-out", path(ca + ".pem"), "-subj", "/CN=presence test " + ca,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"),
            "-subj", "/CN=127.0.0.1")
    with open(path("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-days", "1", "-out", path("server.pem"), "-extfile", path("server.ext"))


lock = threading.Lock()
count = 0


class KeySetHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        global count
        with lock:
            count += 1
            write_atomically("requests", str(count))
        if os.path.exists(path("delay")):
            time.sleep(float(open(path("delay")).read()))
        body = open(path("jwks.json"), "rb").read()
        max_age = open(path("max-age")).read().strip()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Cache-Control", "public, max-age=%s, must-revalidate, no-transform" % max_age)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


make_certificates()
write_atomically("requests", "0")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), KeySetHandler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(path("server.pem"), path("server.key"))
server.socket = context.wrap_socket(server.socket, server_side=True)
write_atomically("port", str(server.server_address[1]))
server.serve_forever()
