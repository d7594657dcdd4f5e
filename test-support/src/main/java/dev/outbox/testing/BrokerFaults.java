package dev.outbox.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Faults injected into the local RabbitMQ node with rabbitmqctl (the fixture's broker must be local). */
public final class BrokerFaults {

    private static final Pattern CONNECTION = Pattern.compile("^(<[^>]+>)\\s.*\"connection_name\",\"([^\"]*)\"");

    private BrokerFaults() {}

    /** Closes, from the broker's side, every connection whose client-provided name starts with {@code prefix}. */
    public static int closeConnections(String prefix) {
        List<String> pids = new ArrayList<>();
        for (String line : rabbitmqctl("list_connections", "--no-table-headers", "pid", "client_properties")
                .split("\n")) {
            Matcher m = CONNECTION.matcher(line);
            if (m.find() && m.group(2).startsWith(prefix)) {
                pids.add(m.group(1));
            }
        }
        for (String pid : pids) {
            rabbitmqctl("close_connection", pid, "closed by a test");
        }
        return pids.size();
    }

    /** Stops the RabbitMQ application (the node stays up): every client loses its connection. */
    public static void stopBroker() {
        rabbitmqctl("stop_app");
    }

    /** Starts the RabbitMQ application again and waits until it serves. */
    public static void startBroker() {
        rabbitmqctl("start_app");
        rabbitmqctl("await_startup");
    }

    public static String rabbitmqctl(String... args) {
        List<String> command = new ArrayList<>();
        command.add("rabbitmqctl");
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("rabbitmqctl not available: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
