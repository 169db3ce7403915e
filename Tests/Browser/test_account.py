"""My Account beyond the name: the offline e-mail box, Delete my account; and paged history."""
import time

from selenium.webdriver.common.by import By

from conftest import screenshot
from test_messenger import PASSWORD, choose, sign_in
from ui import button, field, fill, link, wait, wait_status


def sign_up_http(server, first, email):
    status, _ = server.post_json("/v1/accounts", {"email": email, "password": PASSWORD, "firstName": first, "lastName": "Kim"})
    assert status == 201


def test_offline_email_box_and_delete_my_account(server, browser_factory):
    sign_up_http(server, "Eve", "eve@example.org")
    eve = browser_factory()
    eve.get(server.url + "/")
    sign_in(eve, "eve@example.org", stay=True)
    choose(eve, "EK", "My Account")
    button(eve, "Edit Profile").click()
    box = field(eve, "Offline notification (email): e-mail me about messages while I am logged out")
    assert not box.is_selected()
    box.click()
    # A profile change: the page signs in again and shows the saved value.
    wait(eve, lambda d: "Connection renewed" in d.find_element(By.ID, "notice").text)
    wait(eve, lambda d: d.find_element(By.ID, "offline-email").is_selected())
    eve.refresh()  # from the server, not from the page's memory
    wait(eve, lambda d: d.find_element(By.ID, "view-messenger").is_displayed())
    choose(eve, "EK", "My Account")
    wait(eve, lambda d: d.find_element(By.ID, "offline-email").is_selected())

    # A request Eve declines (Ian asks through the library on a connection of his own).
    sign_up_http(server, "Ian", "ian@example.org")
    asked = eve.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('/presence-client.js').then(async ({ PresenceClient }) => {
          const c = new PresenceClient({ url: PresenceClient.sameOriginURL() });
          await c.signIn({ email: 'ian@example.org', password: arguments[0] });
          await c.request('requestContact', { user: 'eve@example.org' });
          window.ian = c;
          done('asked');
        }).catch((e) => done(String(e)));
    """, PASSWORD)
    assert asked == "asked"
    link(eve, "Back to messenger").click()
    wait(eve, lambda d: d.find_elements(By.CSS_SELECTOR, '#incoming li[data-user="ian@example.org"]'))
    button(eve, "Decline").click()
    wait(eve, lambda d: not d.find_elements(By.CSS_SELECTOR, '#incoming li[data-user="ian@example.org"]'))
    assert not eve.find_elements(By.CSS_SELECTOR, '#contacts li[data-user="ian@example.org"]')
    eve.execute_script("window.ian.logOut()")
    choose(eve, "EK", "My Account")

    # The password pencil: the old one, then a new one that must meet the policy.
    button(eve, "Edit Profile").click()
    button(eve, "Edit password").click()
    fill(eve, "Current password", PASSWORD)
    fill(eve, "New password", "short")
    button(eve, "Save").click()
    wait(eve, lambda d: "uppercase" in d.find_element(By.ID, "edit-error").text)
    fill(eve, "New password", "Another#Pass77")
    button(eve, "Save").click()
    wait(eve, lambda d: "password was changed" in d.find_element(By.ID, "notice").text)
    assert eve.find_element(By.ID, "view-account").is_displayed(), "this session keeps going"

    button(eve, "Delete my account").click()
    fill(eve, "Password", "Wrong#Password1")
    button(eve, "Yes, delete my account").click()
    wait(eve, lambda d: d.find_element(By.ID, "delete-error").text)
    assert eve.find_element(By.ID, "view-account").is_displayed(), "a wrong password deletes nothing"
    fill(eve, "Password", "Another#Pass77")
    screenshot(eve, "delete-my-account")
    button(eve, "Yes, delete my account").click()
    wait(eve, lambda d: d.find_element(By.ID, "view-signin").is_displayed())
    assert "deleted" in eve.find_element(By.ID, "notice").text
    assert eve.execute_script("return localStorage.length") == 0
    fill(eve, "Email", "eve@example.org")
    fill(eve, "Password", "Another#Pass77")  # the password that worked before the deletion
    button(eve, "Login").click()
    wait(eve, lambda d: d.find_element(By.ID, "signin-error").text)
    assert not eve.find_element(By.ID, "view-messenger").is_displayed()


def test_history_is_paged(server, browser_factory):
    sign_up_http(server, "Fay", "fay@example.org")
    sign_up_http(server, "Gus", "gus@example.org")
    fay, gus = browser_factory(), browser_factory()
    for driver, email in ((fay, "fay@example.org"), (gus, "gus@example.org")):
        driver.get(server.url + "/")
        sign_in(driver, email, stay=False)
    fill(fay, "Contact's email", "gus@example.org")
    button(fay, "Add contact").click()
    button(gus, "Accept").click()
    wait_status(fay, "gus@example.org", "online")
    # 45 messages from Fay, sent through the page's own library on a second connection.
    sent = fay.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('/presence-client.js').then(async ({ PresenceClient }) => {
          const c = new PresenceClient({ url: PresenceClient.sameOriginURL() });
          await c.signIn({ email: 'fay@example.org', password: arguments[0] });
          for (let i = 1; i <= 45; i += 1) await c.request('send', { to: 'gus@example.org', clientMessageId: 'p' + i, body: 'message ' + i });
          await c.logOut();
          done(45);
        }).catch((e) => done(String(e)));
    """, PASSWORD)
    assert sent == 45
    # Gus's page took all 45 live; once its heartbeat acknowledges them they are delivered,
    # so the next sign-in brings no backlog, and the conversation comes from history alone.
    wait(gus, lambda d: "45 unread" in d.find_element(By.CSS_SELECTOR, '#contacts li[data-user="fay@example.org"]').text)
    time.sleep(1.5)  # the acknowledgement follows the last chat by 250 ms
    gus.refresh()  # a fresh sign-in: nothing in memory, everything from history
    sign_in(gus, "gus@example.org", stay=False)
    gus.find_element(By.CSS_SELECTOR, '#contacts li[data-user="fay@example.org"] .open-chat').click()
    log = gus.find_element(By.CSS_SELECTOR, '[role="log"]')
    wait(gus, lambda d: len(log.find_elements(By.TAG_NAME, "li")) == 30)
    bodies = [li.find_element(By.CSS_SELECTOR, ".body").text for li in log.find_elements(By.TAG_NAME, "li")]
    assert bodies == [f"message {i}" for i in range(16, 46)], "the newest page, oldest first"
    button(gus, "Load older messages").click()
    wait(gus, lambda d: len(log.find_elements(By.TAG_NAME, "li")) == 45)
    items = [li.find_element(By.CSS_SELECTOR, ".body").text for li in log.find_elements(By.TAG_NAME, "li")]
    assert items == [f"message {i}" for i in range(1, 46)], items
    assert not gus.find_element(By.ID, "older").is_displayed(), "no older page left"

    button(fay, "Remove gus@example.org").click()
    wait(fay, lambda d: not d.find_elements(By.CSS_SELECTOR, '#contacts li[data-user="gus@example.org"]'))
    wait(gus, lambda d: not d.find_elements(By.CSS_SELECTOR, '#contacts li[data-user="fay@example.org"]'))
