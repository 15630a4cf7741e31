package dev.iotjobs.localhub.console;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Debian's headless Chromium driven through its chromedriver (Selenium WebDriver). Without them installed,
 * the browser tests are skipped with a message saying how to install them, unless
 * {@code -Dconsole.browser.required=true} (set by .ci/run) makes that a failure.
 */
final class Browser implements AutoCloseable {
    static final String REQUIRED_PROPERTY = "console.browser.required";
    /** Where the screenshots also go when set (docs/ to refresh the committed ones): {@code -Dconsole.screenshots=...}. */
    static final String SCREENSHOTS_PROPERTY = "console.screenshots";

    final ChromeDriver driver;
    private final Path profile;

    private Browser(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
    }

    static Browser start() throws IOException {
        Path chromium = Path.of(System.getProperty("console.chromium", "/usr/bin/chromium"));
        Path chromedriver = Path.of(System.getProperty("console.chromedriver", "/usr/bin/chromedriver"));
        if (!Files.isExecutable(chromium) || !Files.isExecutable(chromedriver)) {
            String message = "The console's browser tests need Chromium and its driver (" + chromium + ", "
                    + chromedriver + "): apt-get install -y chromium chromium-driver";
            if (Boolean.getBoolean(REQUIRED_PROPERTY)) {
                Assertions.fail(message + " (-D" + REQUIRED_PROPERTY + "=true makes a missing browser a failure)");
            }
            System.err.println("[WARNING] " + message + "; the browser tests are skipped.");
            Assumptions.abort(message + "; skipped.");
        }
        Path profile = Files.createTempDirectory("console-chromium");
        ChromeOptions options = new ChromeOptions().setBinary(chromium.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.toFile()).usingAnyFreePort().build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
        return new Browser(driver, profile);
    }

    void open(String url) {
        driver.get(url);
    }

    WebElement find(String testId) {
        return driver.findElement(By.cssSelector("[data-testid='" + testId + "']"));
    }

    List<WebElement> findAll(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    /** Replaces the text of an input or textarea (also one that has a default). */
    void type(String testId, String text) {
        WebElement e = find(testId);
        driver.executeScript("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", e, text);
    }

    void click(String testId) {
        eventually(Duration.ofSeconds(10), () -> {
            find(testId).click();
            return true;
        }, "click " + testId);
    }

    /** The text of the element with this test id, or "" while it is not on the page. */
    String text(String testId) {
        try {
            return find(testId).getText();
        } catch (NoSuchElementException | StaleElementReferenceException e) {
            return "";
        }
    }

    /** The text of the first element matching css, or "". */
    String textOf(String css) {
        try {
            return driver.findElement(By.cssSelector(css)).getText();
        } catch (NoSuchElementException | StaleElementReferenceException e) {
            return "";
        }
    }

    /** Waits until the condition holds (the pages refresh themselves, so elements come and go meanwhile). */
    void waitUntil(Duration timeout, Supplier<Boolean> condition, Supplier<String> whatWasSeen) {
        eventually(timeout, () -> condition.get() ? Boolean.TRUE : null, null, whatWasSeen);
    }

    <T> T eventually(Duration timeout, Supplier<T> attempt, String what) {
        return eventually(timeout, attempt, what, () -> "");
    }

    private <T> T eventually(Duration timeout, Supplier<T> attempt, String what, Supplier<String> seen) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (true) {
            try {
                T value = attempt.get();
                if (value != null) {
                    return value;
                }
            } catch (NoSuchElementException | StaleElementReferenceException e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Not seen within " + timeout + (what == null ? "" : ": " + what)
                        + "; the page showed: " + seen.get() + "\n" + driver.findElement(By.tagName("main")).getText(), last);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /** Saves a PNG of the window in target/console-screenshots (and in -Dconsole.screenshots when set). */
    void screenshot(String name) throws IOException {
        // The whole page, not only the window (Chrome DevTools' capture beyond the viewport), at most 2000 px high.
        Number height = (Number) driver.executeScript("return document.documentElement.scrollHeight");
        Number width = (Number) driver.executeScript("return document.documentElement.clientWidth");
        Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot", Map.of("format", "png",
                "captureBeyondViewport", true, "clip", Map.of("x", 0, "y", 0, "width", width.intValue(),
                        "height", Math.min(2000, height.intValue()), "scale", 1)));
        save(name, Base64.getDecoder().decode((String) shot.get("data")));
    }

    /**
     * Saves a PNG of one element (a card) with a few pixels around it, as {@link #screenshot} does for the page;
     * taken within the window (capturing beyond it would lay the page out again without its scroll bar).
     */
    void screenshotOf(String testId, String name) throws IOException {
        driver.executeScript("arguments[0].scrollIntoView({block: 'start'});", find(testId));
        @SuppressWarnings("unchecked")
        Map<String, Number> box = (Map<String, Number>) driver.executeScript("const r = arguments[0]"
                + ".getBoundingClientRect(); const x = Math.max(0, r.left + window.scrollX - 4);"
                + " const y = Math.max(0, r.top + window.scrollY - 4);"
                + " return {x: x, y: y, width: Math.min(r.width + 8, document.documentElement.clientWidth - x),"
                + " height: Math.min(window.innerHeight, r.height + 8)};", find(testId));
        Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot", Map.of("format", "png",
                "captureBeyondViewport", false, "clip", Map.of("x", box.get("x").doubleValue(),
                        "y", box.get("y").doubleValue(), "width", box.get("width").doubleValue(),
                        "height", box.get("height").doubleValue(), "scale", 1)));
        save(name, Base64.getDecoder().decode((String) shot.get("data")));
    }

    private static void save(String name, byte[] png) throws IOException {
        Path dir = Path.of("target", "console-screenshots");
        Files.createDirectories(dir);
        Files.write(dir.resolve(name + ".png"), png);
        String extra = System.getProperty(SCREENSHOTS_PROPERTY);
        if (extra != null && !extra.isBlank()) {
            Path docs = Path.of(extra);
            Files.createDirectories(docs);
            Files.write(docs.resolve(name + ".png"), png);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
