"""How presenced serves the web client: headers, caching, Google on and off, CSP, small screens."""
import base64
import json
import re
import time
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import csp_violations, screenshot
from ui import button, field, link, wait


def test_files_carry_security_and_cache_headers(server):
    status, headers, body = server.get("/")
    assert status == 200 and body.startswith(b"<!DOCTYPE html>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp, "no inline script and no third-party origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-cache"
    assert b"<script>" not in body and not re.search(rb"\son[a-z]+=", body), "no inline script or handler"

    status, headers, script = server.get("/presence-client.js")
    assert status == 200 and headers["Content-Type"] == "text/javascript; charset=utf-8"
    etag = headers["ETag"]
    status, headers304, body304 = server.get("/presence-client.js", {"If-None-Match": etag})
    assert status == 304 and body304 == b"" and headers304["ETag"] == etag
    status, _, _ = server.get("/presence-client.js", {"If-None-Match": '"something-else"'})
    assert status == 200, "a stale validator gets the file"
    assert server.get("/app.js")[1]["ETag"] != etag, "each file has its own validator"


def test_nothing_outside_the_web_root_is_served(server):
    for path in ("/../Package.swift", "/%2e%2e/Package.swift", "/.hidden", "/nope.js", "/Assets/app.js"):
        status, headers, body = server.get(path)
        assert status in (400, 404), (path, status)
    assert server.get("/style.css")[0] == 200, "positive control: a real file is served"
    assert server.get("/healthz")[0] == 200, "the other routes still answer"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def google_keys():
    """An RSA key standing in for Google's, and its JSON Web Key Set."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "test-key",
           "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")), "e": b64url(numbers.e.to_bytes(3, "big"))}
    return key, {"keys": [jwk]}


def id_token(key, claims):
    header = b64url(json.dumps({"alg": "RS256", "kid": "test-key", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64url(signature)}"


def test_google_button_only_when_google_is_configured(server, start_server, browser_factory, tmp_path):
    assert json.loads(server.get("/v1/client-config")[2]) == {"google": None}
    driver = browser_factory()
    driver.get(server.url + "/")
    button(driver, "Login")
    controls = driver.find_elements(By.CSS_SELECTOR, "button, a, input, [role=button]")
    assert not [c for c in controls if c.is_displayed() and "google" in (c.accessible_name or "").lower()]

    key, key_set = google_keys()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(key_set))
    google = start_server("--google-client-id", "test-client.apps.example", "--google-jwks-file", str(jwks))
    assert json.loads(google.get("/v1/client-config")[2]) == {"google": {"clientId": "test-client.apps.example"}}
    driver.get(google.url + "/")
    drawn = button(driver, "Sign in with Google")
    screenshot(driver, "sign-in-with-google")
    assert not driver.find_elements(By.CSS_SELECTOR, "script[src*='google'], iframe"), "no script from Google"
    assert drawn.is_displayed()
    assert not csp_violations(driver.get_log("browser"))

    # The button leaves for Google's OAuth endpoint (unreachable offline, as it may be), asking
    # for an ID token with a fresh nonce; "Google" then comes back to the page with a token
    # signed by the key in the server's key set, and the person is signed in.
    field(driver, "Stay signed in").click()
    drawn.click()
    wait(driver, lambda d: d.current_url.startswith("https://accounts.google.com/o/oauth2/v2/auth?"))
    query = parse_qs(urlparse(driver.current_url).query)
    assert query["client_id"] == ["test-client.apps.example"] and query["response_type"] == ["id_token"]
    assert query["redirect_uri"] == [google.url + "/"]
    now = int(time.time())
    claims = {"iss": "https://accounts.google.com", "aud": "test-client.apps.example", "sub": "g-1234",
              "email": "hal@example.org", "email_verified": True, "given_name": "Hal", "family_name": "Moe",
              "iat": now, "exp": now + 600, "nonce": query["nonce"][0]}
    forged = dict(claims, nonce="not-the-one-sent")
    driver.get(google.url + "/#id_token=" + id_token(key, forged) + "&token_type=Bearer")
    wait(driver, lambda d: "did not complete" in d.find_element(By.ID, "signin-error").text)
    assert not driver.find_element(By.ID, "view-messenger").is_displayed(), "a token with another nonce is refused"
    field(driver, "Stay signed in").click()  # a fresh page: ticked again
    button(driver, "Sign in with Google").click()
    wait(driver, lambda d: d.current_url.startswith("https://accounts.google.com/"))
    claims["nonce"] = parse_qs(urlparse(driver.current_url).query)["nonce"][0]
    driver.get(google.url + "/#id_token=" + id_token(key, claims) + "&token_type=Bearer")
    wait(driver, lambda d: d.find_element(By.ID, "view-messenger").is_displayed())
    assert button(driver, "HM").text == "HM"
    assert "id_token" not in driver.current_url, "the token leaves the address bar"
    assert driver.execute_script("return localStorage.getItem('presence.deviceToken')"), "Stay signed in applies to Google too"


def test_chromium_reports_csp_violations_positive_control(server, browser_factory):
    """The CSP checks elsewhere look for violations in the browser log; here is one, to show they would be seen."""
    driver = browser_factory()
    driver.get(server.url + "/")
    button(driver, "Login")
    driver.execute_script("const s = document.createElement('script'); s.textContent = 'window.injected = 1'; document.head.append(s);")
    assert driver.execute_script("return window.injected === undefined"), "the inline script did not run"
    entries = wait(driver, lambda d: csp_violations(d.get_log("browser")), timeout=5)
    assert entries, "Chromium logged the violation"


def test_small_screen_and_keyboard(server, browser_factory):
    driver = browser_factory(width=360, height=740)
    driver.get(server.url + "/")
    button(driver, "Login")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 360, "no sideways scrolling at 360 px"
    # Keyboard only: Tab reaches the fields, the checkbox, the button and the links in order.
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    names = []
    outlines = {}
    for _ in range(7):
        active = driver.switch_to.active_element
        names.append(active.accessible_name)
        outlines[active.accessible_name] = driver.execute_script(
            "const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth")
        active.send_keys(Keys.TAB)
    for expected in ("Email", "Password", "Stay signed in", "Login", "Forgot Password", "Create account"):
        assert expected in names, (expected, names)
    for name in ("Login", "Forgot Password", "Stay signed in"):
        assert outlines[name] == "solid 3px", f"visible focus on {name}: {outlines}"
    link(driver, "Create account").send_keys(Keys.ENTER)
    field(driver, "First name")
    screenshot(driver, "create-account-360px")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 360
