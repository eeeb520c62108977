"""The README's two pictures, from real runs: a screenshot of runs/demo/report.html in headless Chromium
(after `make demo`) and the Hamlet cell view of the docs' `lstmkit explain` example (after `make docs`).

Run: .venv/bin/python examples/readme_images.py   (needs Debian's chromium and chromium-driver)
"""

import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"

options = webdriver.ChromeOptions()
options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1500", "--no-first-run", "--hide-scrollbars"):
    options.add_argument(flag)
for flag in ("--disable-background-networking", "--disable-component-update", "--disable-sync"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
try:
    driver.get((ROOT / "runs" / "demo" / "report.html").as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#run-forecast .main-svg"))
    driver.save_screenshot(str(IMAGES / "report.png"))
finally:
    driver.quit()
cell = ROOT / "docs" / "generated" / "cli_explain" / "runs" / "hamlet-small" / "explain" / "text_1_position_in_the_line.png"
shutil.copyfile(cell, IMAGES / "hamlet_cell.png")
print(f"wrote {IMAGES / 'report.png'} and {IMAGES / 'hamlet_cell.png'}")
