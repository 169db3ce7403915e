"""Fixtures for the browser tests: private presenced servers and headless Chromium.

Every server is the real `presenced` binary (path in $PRESENCED) on a free loopback port,
with its own temporary data directory and mail spool.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "Tests" / "Browser" / "screenshots"))


class Server:
    """One running presenced."""

    def __init__(self, extra_args=()):
        binary = os.environ.get("PRESENCED")
        if not binary:
            raise RuntimeError("set PRESENCED to the presenced binary (scripts/browser-tests.sh does)")
        self.data_dir = Path(tempfile.mkdtemp(prefix="presence-browser-"))
        self.log_path = self.data_dir / "presenced.log"
        self.log = open(self.log_path, "w")
        self.launches = 0
        # A free port chosen here rather than --port 0: the reset e-mail's link (public-url)
        # must name the real port.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            chosen = probe.getsockname()[1]
        args = [binary, "--host", "127.0.0.1", "--port", str(chosen), "--public-url", f"http://127.0.0.1:{chosen}",
                "--data-dir", str(self.data_dir / "data"),
                "--debounce-ms", "100", "--log-level", "info",
                # Several servers run side by side: no shared operator port. Every test user
                # signs up from 127.0.0.1, past the per-address sign-up allowance.
                "--admin-listen", "off", "--sign-up-burst-per-address", "1000", *extra_args]
        self.args = args
        self.port = chosen
        self.url = f"http://127.0.0.1:{chosen}"
        self.launch()

    def launch(self):
        """Starts the process and waits until it listens."""
        self.process = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        port = None
        while time.time() < deadline and port is None:
            if self.process.poll() is not None:
                raise RuntimeError(f"presenced exited: {self.log_path.read_text()}")
            port = self.port if self.log_path.read_text().count("listening") > self.launches else None
            time.sleep(0.05)
        if port is None:
            raise RuntimeError(f"presenced did not start listening: {self.log_path.read_text()}")
        self.launches += 1

    def drain(self):
        """SIGTERM: clients get Close 1001 with a reconnect hint; the data stays for `launch()`."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)

    @property
    def mail_dir(self):
        return self.data_dir / "data" / "mail"

    def get(self, path, headers=None):
        """(status, headers, body) of a GET."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def post_json(self, path, body):
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def start_server():
    """A factory: start_server(*extra_args) → Server, all stopped at the end of the session."""
    servers = []

    def start(*extra_args):
        server = Server(extra_args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def server(start_server):
    """The server of the messenger flow, with the web client built into the binary."""
    return start_server()


def make_browser(width=1280, height=900):
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-first-run", "--disable-extensions", f"--window-size={width},{height}"):
        options.add_argument(argument)
    # Console messages, CSP violations included, through get_log("browser").
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_window_size(width, height)
    return driver


@pytest.fixture
def browser_factory():
    """A factory of independent Chromium instances (own profile, own localStorage)."""
    drivers = []

    def make(width=1280, height=900):
        driver = make_browser(width, height)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()


def screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def csp_violations(entries):
    return [e for e in entries if "Content Security Policy" in e.get("message", "") or "Content-Security-Policy" in e.get("message", "")]
