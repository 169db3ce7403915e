"""Finding things the way a person (or a screen reader) does: by role and accessible name."""
import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 15


def wait(driver, condition, timeout=TIMEOUT, message=""):
    """Waits until condition(driver) is truthy (stale elements count as not yet)."""
    def check(d):
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(check, message)


def _visible_named(driver, xpath, name):
    for element in driver.find_elements(By.XPATH, xpath):
        try:
            if element.is_displayed() and element.accessible_name.strip() == name:
                return element
        except StaleElementReferenceException:
            continue
    return None


def button(driver, name, timeout=TIMEOUT):
    """The visible button (or menu item) whose accessible name is `name`."""
    xpath = ("//button[normalize-space()=$n or @aria-label=$n or .//text()[normalize-space()=$n]]"
             .replace("$n", _literal(name)))
    return wait(driver, lambda d: _visible_named(d, xpath, name), timeout, f"no button named {name!r}")


def link(driver, name, timeout=TIMEOUT):
    xpath = f"//a[normalize-space()={_literal(name)}]"
    return wait(driver, lambda d: _visible_named(d, xpath, name), timeout, f"no link named {name!r}")


def field(driver, label, timeout=TIMEOUT):
    """The visible input whose label is `label`."""
    xpath = (f"//input[@id=//label[normalize-space()={_literal(label)}]/@for] | "
             f"//label[normalize-space()={_literal(label)}]//input")
    return wait(driver, lambda d: _visible_named(d, xpath, label), timeout, f"no field labelled {label!r}")


def fill(driver, label, text):
    element = field(driver, label)
    element.clear()
    element.send_keys(text)
    return element


def contact_row(driver, email):
    return driver.find_elements(By.CSS_SELECTOR, f'#contacts li[data-user="{email}"]')


def wait_status(driver, email, status, timeout=TIMEOUT):
    """Waits until the contact row of `email` shows `status` (attribute and words)."""
    def shown(d):
        rows = contact_row(d, email)
        return rows and rows[0].get_attribute("data-status") == status and rows[0]
    row = wait(driver, shown, timeout, f"{email} never showed {status}")
    return row


def text_of(driver, css):
    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, css))


def _literal(text):
    if "'" not in text:
        return f"'{text}'"
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in text.split("'")) + ")"


def settle(seconds=0.2):
    time.sleep(seconds)
