"""The server drains and comes back: the page says so, never shows stale presence as live, and recovers by itself."""
from selenium.webdriver.common.by import By

from conftest import screenshot
from test_messenger import PASSWORD, sign_in
from ui import button, fill, wait, wait_status


def test_a_restart_shows_reconnecting_and_stale_presence_then_live_again(start_server, browser_factory):
    server = start_server("--shutdown-grace-seconds", "1")
    for first, email in (("Cy", "cy@example.org"), ("Di", "di@example.org")):
        status, _ = server.post_json("/v1/accounts", {"email": email, "password": PASSWORD, "firstName": first, "lastName": "Ray"})
        assert status == 201
    cy, di = browser_factory(), browser_factory()
    for driver, email in ((cy, "cy@example.org"), (di, "di@example.org")):
        driver.get(server.url + "/")
        sign_in(driver, email, stay=True)
    fill(cy, "Contact's email", "di@example.org")
    button(cy, "Add contact").click()
    button(di, "Accept").click()
    row = wait_status(cy, "di@example.org", "online")
    assert row.get_attribute("data-stale") == "false" and "last known" not in row.text
    assert not cy.find_element(By.ID, "connection").is_displayed()

    server.drain()
    line = wait(cy, lambda d: d.find_element(By.ID, "connection").is_displayed() and d.find_element(By.ID, "connection"))
    assert "Reconnecting" in line.text or "Offline" in line.text, line.text
    row = wait(cy, lambda d: d.find_element(By.CSS_SELECTOR, '#contacts li[data-user="di@example.org"][data-stale="true"]'))
    assert "last known" in row.text, row.text
    screenshot(cy, "reconnecting")

    server.launch()
    # The restarted server knows no session: resume fails, and the device token signs in again.
    wait(cy, lambda d: not d.find_element(By.ID, "connection").is_displayed(), timeout=90, message="never reconnected")
    row = wait_status(cy, "di@example.org", "online", timeout=90)
    wait(cy, lambda d: d.find_element(By.CSS_SELECTOR, '#contacts li[data-user="di@example.org"]').get_attribute("data-stale") == "false")
    wait_status(di, "cy@example.org", "online", timeout=90)
