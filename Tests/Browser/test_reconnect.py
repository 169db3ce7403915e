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


def test_without_stay_signed_in_the_tab_still_signs_in_again_by_itself(start_server, browser_factory):
    """A tab whose person did not tick "stay signed in" keeps a device token in memory only
    (Protocol/README.md, section 7): when the server's session is gone (a restart here; a
    cluster's change, Close 1012, alike) the tab signs in again without asking for the
    password. Reloading the tab still forgets it (the control: closing the app signs out)."""
    server = start_server("--shutdown-grace-seconds", "1")
    for first, email in (("Em", "em@example.org"), ("Fa", "fa@example.org")):
        status, _ = server.post_json("/v1/accounts", {"email": email, "password": PASSWORD, "firstName": first, "lastName": "Ray"})
        assert status == 201
    em, fa = browser_factory(), browser_factory()
    for driver, email in ((em, "em@example.org"), (fa, "fa@example.org")):
        driver.get(server.url + "/")
        sign_in(driver, email, stay=False)
    fill(em, "Contact's email", "fa@example.org")
    button(em, "Add contact").click()
    button(fa, "Accept").click()
    wait_status(em, "fa@example.org", "online")
    assert em.execute_script("return localStorage.length") == 0, "nothing kept beyond the tab"

    server.drain()
    wait(em, lambda d: d.find_element(By.ID, "connection").is_displayed())
    server.launch()
    wait(em, lambda d: not d.find_element(By.ID, "connection").is_displayed(), timeout=90, message="never signed in again")
    wait_status(em, "fa@example.org", "online", timeout=90)
    assert not em.find_element(By.ID, "view-signin").is_displayed(), "the password was not asked for"

    em.refresh()
    wait(em, lambda d: d.find_element(By.ID, "view-signin").is_displayed(), message="a reload must sign the tab out")
