"""presence-client.js's own tests, in Chromium, against a real presenced.

The test page lives in Tests/Browser/library/, not in the shipped web root: the server
here runs with --web-root pointing at a copy of the web client plus the test page.
"""
import shutil
import tempfile
from pathlib import Path

from selenium.webdriver.common.by import By

from conftest import ROOT, csp_violations, screenshot
from ui import wait


def test_library_tests_pass_in_chromium(start_server, browser_factory):
    web_root = Path(tempfile.mkdtemp(prefix="presence-web-root-"))
    shutil.copytree(ROOT / "Sources" / "Gateway" / "Web" / "Assets", web_root, dirs_exist_ok=True)
    shutil.copytree(ROOT / "Tests" / "Browser" / "library", web_root, dirs_exist_ok=True)
    server = start_server("--web-root", str(web_root), "--sign-in-timeout-seconds", "2")
    driver = browser_factory()
    driver.get(server.url + "/library-test.html")
    summary = wait(driver, lambda d: d.find_element(By.ID, "summary").get_attribute("data-done") == "true"
                   and d.find_element(By.ID, "summary"), timeout=120)
    screenshot(driver, "library-tests")
    results = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#results li")]
    print("\n".join(results))
    passed = int(summary.get_attribute("data-passed"))
    failed = int(summary.get_attribute("data-failed"))
    assert failed == 0, [r for r in results if r.startswith("FAIL")]
    assert passed == len(results) >= 10, results
    assert not csp_violations(driver.get_log("browser"))
    shutil.rmtree(web_root, ignore_errors=True)
