package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.RelayProcess;
import dev.outbox.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The ways a user starts the relay: the launcher's JVM options and the container image's
 * health check, run as written (there is no Docker engine here, so the image's environment
 * and command lines are read from the Dockerfile and run with this JVM).
 */
class LauncherIT {

    private static final Path ROOT = Path.of("..");
    private static final Pattern ENV = Pattern.compile("^ENV\\s+(\\w+)=\"([^\"]*)\"", Pattern.MULTILINE);
    private static final Pattern HEALTH = Pattern.compile("HEALTHCHECK[^\\n]*\\\\\\n\\s*CMD\\s+(\\[.*])");
    private static final Pattern LAUNCHER_OPTS = Pattern.compile("\\$\\{RELAY_JAVA_OPTS:-([^}]*)}");

    /** The JVM options scripts/relay starts the relay with (the image's are tested to be the same). */
    static List<String> launcherJvmOptions() throws java.io.IOException {
        Matcher launcher = LAUNCHER_OPTS.matcher(Files.readString(ROOT.resolve("scripts/relay")));
        if (!launcher.find()) {
            throw new AssertionError("scripts/relay names no default JVM options");
        }
        return List.of(launcher.group(1).split("\\s+"));
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Map<String, String> imageEnvironment() throws Exception {
        Map<String, String> env = new HashMap<>();
        Matcher m = ENV.matcher(Files.readString(ROOT.resolve("Dockerfile")));
        while (m.find()) {
            env.put(m.group(1), m.group(2));
        }
        return env;
    }

    private static Result run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("RELAY_") || k.startsWith("JAVA_TOOL"));
        pb.environment().putAll(env);
        Process p = pb.start();
        boolean done = p.waitFor(30, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
            return new Result(-1, output);
        }
        return new Result(p.exitValue(), output);
    }

    private record Result(int exitCode, String output) {}

    @Test
    void theLauncherAndTheImageStartTheJvmWithTheSameOptionsAndNoWarning() throws Exception {
        // -Xms64m with -Xmn64m made the JVM's first line a gc,ergo warning, before anything of the relay's.
        Matcher launcher = LAUNCHER_OPTS.matcher(Files.readString(ROOT.resolve("scripts/relay")));
        assertThat(launcher.find())
                .as("scripts/relay names its default JVM options")
                .isTrue();
        String options = launcher.group(1);
        assertThat(imageEnvironment().get("RELAY_JAVA_OPTS"))
                .as("Dockerfile RELAY_JAVA_OPTS")
                .isEqualTo(options);
        List<String> command = new ArrayList<>(List.of(java()));
        command.addAll(List.of(options.split("\\s+")));
        command.add("-version");
        Result result = run(command, Map.of());
        assertThat(result.exitCode()).isZero();
        assertThat(result.output()).doesNotContainIgnoringCase("warning");
    }

    @Test
    void theImagesHealthCheckCommandPassesAgainstARunningRelay() throws Exception {
        String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        Matcher health = HEALTH.matcher(dockerfile);
        assertThat(health.find()).as("Dockerfile has a HEALTHCHECK CMD").isTrue();
        List<String> command = new ArrayList<>();
        for (String word : new ObjectMapper().readValue(health.group(1), String[].class)) {
            command.add(word.equals("java") ? java() : word.replace("/app/cdc-relay.jar", RelayProcess.JAR.toString()));
        }
        try (TestDatabase db = PostgresFixture.get().createDatabase("relay_launcher")) {
            Map<String, String> relayEnv = RelayEnv.forTest(db, RabbitFixture.get());
            Map<String, String> checkEnv = imageEnvironment();
            // In the image the relay listens on the default port; here on a free one, which the check is told.
            checkEnv.put("RELAY_HTTP_PORT", relayEnv.get("RELAY_HTTP_PORT"));
            try (RelayProcess relay = RelayProcess.start(relayEnv, "launcher-" + relayEnv.get("RELAY_SLOT"))
                    .awaitReady()) {
                Result ready = run(command, checkEnv);
                assertThat(ready.exitCode())
                        .as("health check on a ready relay: %s", ready.output())
                        .isZero();
            }
            Result stopped = run(command, checkEnv);
            assertThat(stopped.exitCode())
                    .as("health check with no relay: %s", stopped.output())
                    .isEqualTo(1);
        }
    }
}
