"""A real browser for deploy/local's page checks: headless Chromium through Selenium, axe-core on every
page looked at, a screenshot of each, and the failures collected. Imported, not run."""
import pathlib
import urllib.parse
import urllib.request

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


class BrowserCheck:
    """One browser session against `base`. `javascript=False` turns the pages' scripts off."""

    def __init__(self, base, artifacts, label, javascript=True):
        self.base = base.rstrip("/")
        self.artifacts = pathlib.Path(artifacts)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.label = label
        self.javascript = javascript
        self.failures = []
        self.checked = 0
        self.screenshots = 0
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        if not javascript:
            # The pages' scripts stop, on every page from here on; WebDriver's own (axe, setting a date
            # field) still run, as a tester's hands would.
            self.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})

    def quit(self):
        self.driver.quit()

    def fail(self, message):
        self.failures.append(message)
        print(f"{self.label}: FAILED {message}", flush=True)

    def open(self, path):
        self.driver.get(self.base + path)
        return urllib.parse.urlparse(self.driver.current_url)

    @property
    def path(self):
        return urllib.parse.urlparse(self.driver.current_url).path

    def wait_for(self, condition, seconds=15):
        """A click only starts a navigation: waits until the new page satisfies `condition`."""
        try:
            WebDriverWait(self.driver, seconds).until(condition)
        except TimeoutException:
            pass  # the caller's own check then says what went wrong

    def sign_in(self, token):
        self.open("/dashboard/sign-in")
        self.driver.find_element(By.ID, "token").send_keys(token)
        self.driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
        self.wait_for(lambda d: urllib.parse.urlparse(d.current_url).path != "/dashboard/sign-in" or d.find_elements(By.ID, "sign-in-error"))
        return self.path in ("/dashboard", "/inbox", "/desk")

    def sign_out(self):
        self.driver.find_element(By.CSS_SELECTOR, "form[action='/dashboard/sign-out'] button").click()
        self.wait_for(lambda d: urllib.parse.urlparse(d.current_url).path == "/dashboard/sign-in")

    def accessible(self, name):
        """axe-core on the page as it stands: no serious or critical violation may remain."""
        if not self.javascript:
            # axe needs its own timers: scripts run again for it alone, on the page as it loaded without them.
            self.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
        try:
            axe = Axe(self.driver)
            axe.inject()
            results = axe.run()
        finally:
            if not self.javascript:
                self.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        self.checked += 1
        for violation in results["violations"]:
            if violation.get("impact") in ("serious", "critical"):
                nodes = ", ".join(node.get("target", ["?"])[0] for node in violation.get("nodes", [])[:3])
                self.fail(f"{name}: axe {violation['impact']} {violation['id']} ({violation.get('help', '')}) at {nodes}")

    def look(self, name):
        """A screenshot of the page, kept as `name`.png, and axe on it."""
        self.driver.save_screenshot(str(self.artifacts / f"{name}.png"))
        self.screenshots += 1
        self.accessible(name)

    def submit(self, form_selector):
        """Sends the form `form_selector` with its own button, and waits for the answer's page."""
        before = self.driver.current_url
        form = self.driver.find_element(By.CSS_SELECTOR, form_selector)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait_for(lambda d: d.current_url != before)

    def errors(self):
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".error")]

    def download(self, href):
        """The bytes at `href`, fetched with this browser's session cookie (a file download, as the reader
        would save it)."""
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())
        request = urllib.request.Request(urllib.parse.urljoin(self.base + "/", href), headers={"Cookie": cookies})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
