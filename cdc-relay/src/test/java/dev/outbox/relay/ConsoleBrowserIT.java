package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.sdk.Subscriber;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The console in a real browser (headless Chromium driven by Selenium) against the real relay,
 * PostgreSQL and RabbitMQ: an operator finds a dead letter by filter, reads it, cannot act
 * without signing in, signs in, replays it and sees it handled, replays the rest of its group
 * after a dry run, and finds both actions in the audit. Takes the screenshots of docs/operating.md.
 *
 * <p>Needs Debian's {@code chromium} and {@code chromium-driver} ({@code .ci/run} installs them);
 * without them it is skipped outside CI and fails in CI.
 */
class ConsoleBrowserIT {

    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM_BIN", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER =
            Path.of(System.getenv().getOrDefault("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"));
    private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    @Test
    void anOperatorFindsReplaysAndAuditsDeadLettersInABrowser() throws Exception {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (System.getenv("CI") == null) {
            Assumptions.assumeTrue(present, "chromium and chromium-driver are not installed");
        }
        assertThat(present)
                .as("chromium and chromedriver at " + CHROMIUM + " and " + CHROMEDRIVER
                        + " (apt-get install chromium chromium-driver; .ci/run does)")
                .isTrue();
        Set<String> handled = ConcurrentHashMap.newKeySet();
        AtomicBoolean failing = new AtomicBoolean(true);
        try (ConsoleWorld world = ConsoleWorld.start("relay_console_browser", true);
                Subscriber s = world.subscribe("shop", "console_shop", (headers, body) -> {
                    if (failing.get()) {
                        throw new IllegalStateException(
                                "order " + body.path("id").asText() + " has no customer "
                                        + body.path("note").asText());
                    }
                    handled.add(body.path("id").asText());
                })) {
            world.append("shop.order.created", "{\"id\": 1001, \"total\": 12.5}");
            world.append("shop.order.created", "{\"id\": 1002, \"total\": 99}");
            world.append("shop.order.created", "{\"id\": 1003, \"note\": \"<script>alert('x')</script>\"}");
            world.awaitDeadLetters("console_shop", 3);
            WebDriver browser = browser();
            try {
                browser.get(world.base);
                assertThat(browser.findElement(By.id("state")).getText()).isEqualTo("streaming");
                screenshot(browser, "overview");

                browser.findElement(By.linkText("Dead letters")).click();
                browser.findElement(By.id("filter-queue")).sendKeys("console_shop");
                browser.findElement(By.id("apply-filter")).click();
                List<WebElement> groups = browser.findElements(By.cssSelector("#groups a.group"));
                assertThat(groups).hasSize(2);
                assertThat(browser.findElement(By.id("groups")).getText())
                        .contains("java.lang.IllegalStateException: order <n> has no customer")
                        .contains(
                                "java.lang.IllegalStateException: order <n> has no customer <script>alert(<text>)</script>");
                assertThat(browser.findElement(By.id("shown")).getText()).contains("Showing 3 of 3");
                assertThat(browser.findElements(By.id("bulk-replay")))
                        .as("no actions without signing in")
                        .isEmpty();
                screenshot(browser, "dead-letters");

                browser.findElements(By.cssSelector("#groups a.group")).stream()
                        .filter(a -> a.getText().endsWith("customer"))
                        .findFirst()
                        .orElseThrow()
                        .click();
                assertThat(browser.findElement(By.id("shown")).getText()).contains("Showing 2 of 2");
                browser.findElement(By.cssSelector("#dead-letters a.dead-letter"))
                        .click();
                String firstUrl = browser.getCurrentUrl();
                assertThat(browser.findElement(By.id("body")).getText()).contains("\"id\" : 1002");
                assertThat(browser.findElements(By.id("replay"))).isEmpty();
                long id = Long.parseLong(firstUrl.substring(firstUrl.lastIndexOf('/') + 1));
                assertThat(world.postJson("/api/dead-letters/discard", null, "{\"ids\": [" + id + "]}")
                                .statusCode())
                        .as("a discard without a credential")
                        .isEqualTo(401);

                browser.get(world.base + "/dead-letters?queue=console_shop&routing_key=shop.*");
                browser.findElement(By.cssSelector("#dead-letters a.dead-letter"))
                        .click();
                assertThat(browser.findElement(By.id("last-error")).getText()).contains("<script>alert('x')</script>");
                assertThatThrownBy(() -> browser.switchTo().alert())
                        .as("nothing of a message runs as script")
                        .isInstanceOf(NoAlertPresentException.class);
                screenshot(browser, "dead-letter");

                browser.findElement(By.id("sign-in-link")).click();
                browser.findElement(By.id("token")).sendKeys(ConsoleWorld.TOKEN);
                browser.findElement(By.id("sign-in")).click();
                assertThat(browser.findElement(By.id("actor")).getText()).isEqualTo("token");
                browser.get(firstUrl);
                failing.set(false);
                browser.findElement(By.id("replay")).click();
                assertThat(browser.findElement(By.id("outcome")).getText()).isEqualTo("Replayed 1 of 1.");
                await("the replayed message handled")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> handled.contains("1002"));

                browser.get(world.base + "/dead-letters?queue=console_shop");
                browser.findElement(By.id("bulk-replay")).click();
                assertThat(browser.findElement(By.id("dry-run")).getText())
                        .isEqualTo("2 new dead letters match; nothing has been done yet.");
                assertThat(browser.findElements(By.cssSelector("#would-take li")))
                        .hasSize(2);
                screenshot(browser, "dry-run");
                browser.findElement(By.id("confirm")).click();
                assertThat(browser.findElement(By.id("outcome")).getText()).isEqualTo("Replayed 2 of 2.");
                await("the group replayed and handled")
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> handled.containsAll(List.of("1001", "1002", "1003")));

                browser.findElement(By.linkText("Audit")).click();
                List<WebElement> rows = browser.findElements(By.cssSelector("#audit tr"));
                assertThat(rows).hasSize(3); // the header and two actions
                assertThat(rows.get(1).getText()).contains("token").contains("replay");
                screenshot(browser, "audit");
            } finally {
                browser.quit();
            }
        }
    }

    private static WebDriver browser() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                // No network beyond localhost here: Chromium's own background traffic only fails and waits.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
                "--window-size=1280,900",
                "--user-data-dir="
                        + new File("target/chromium-" + ProcessHandle.current().pid()).getAbsolutePath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        WebDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().implicitlyWait(Duration.ofSeconds(5));
        return driver;
    }

    private static void screenshot(WebDriver browser, String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        File shot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve("console-" + name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
