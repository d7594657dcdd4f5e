package dev.outbox.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outbox.testing.RelayEnv;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The three-node cluster of {@code scripts/rabbitmq-cluster}, for the cluster tests: started
 * when not running, a virtual host per test, and node faults (stop, start, SIGKILL).
 */
final class RabbitCluster {

    static final int NODES = 3;
    private static final Path SCRIPT = Path.of("..", "scripts", "rabbitmq-cluster");

    private RabbitCluster() {}

    static void ensureRunning() throws IOException, InterruptedException {
        run(300, "start");
    }

    static int port(int node) {
        return 5680 + node;
    }

    static String address(int node) {
        return "127.0.0.1:" + port(node);
    }

    /** Every node's address, {@code first} first: a client tries them in this order. */
    static List<String> addresses(int first) {
        List<String> all = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            all.add(address((first - 1 + i) % NODES + 1));
        }
        return all;
    }

    static String uri(int node, String vhost) {
        return "amqp://guest:guest@127.0.0.1:" + port(node) + "/" + vhost;
    }

    /** A relay's environment for {@code db}, publishing to {@code vhost} through node 1, then 2 and 3. */
    static java.util.Map<String, String> relayEnv(dev.outbox.testing.TestDatabase db, String vhost) {
        java.util.Map<String, String> env = RelayEnv.forTest(db, dev.outbox.testing.RabbitFixture.get());
        env.put("RELAY_RABBITMQ_URI", uri(1, vhost));
        env.put("RELAY_RABBITMQ_ADDRESSES", String.join(",", addresses(1)));
        return env;
    }

    /** A fresh virtual host on the cluster, guest allowed everything. */
    static String newVhost(String prefix) throws IOException, InterruptedException {
        String vhost = prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
        ctl("add_vhost", vhost);
        ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
        return vhost;
    }

    static void deleteVhost(String vhost) {
        try {
            ctl("delete_vhost", vhost);
        } catch (IOException | InterruptedException | RuntimeException e) {
            // the cluster is scratch: a leftover vhost goes with `rabbitmq-cluster stop`
        }
    }

    /** The node (1-based) that leads quorum queue {@code queue}. */
    static int leaderOf(String vhost, String queue) throws IOException, InterruptedException {
        JsonNode queues =
                new ObjectMapper().readTree(ctl("list_queues", "-p", vhost, "name", "leader", "--formatter", "json"));
        for (JsonNode q : queues) {
            if (q.path("name").asText().equals(queue)) {
                String leader = q.path("leader").asText();
                return Integer.parseInt(leader.substring("outbox-c".length(), leader.indexOf('@')));
            }
        }
        throw new IllegalStateException("no queue " + queue + " in " + vhost);
    }

    static void stopNode(int node) throws IOException, InterruptedException {
        run(120, "stop-node", Integer.toString(node));
    }

    static void startNode(int node) throws IOException, InterruptedException {
        run(300, "start-node", Integer.toString(node));
    }

    static void killNode(int node) throws IOException, InterruptedException {
        run(60, "kill-node", Integer.toString(node));
    }

    /** rabbitmqctl against a running node (the first that answers). */
    static String ctl(String... args) throws IOException, InterruptedException {
        IOException last = null;
        for (int node = 1; node <= NODES; node++) {
            List<String> command = new ArrayList<>(List.of("ctl", Integer.toString(node)));
            command.addAll(List.of(args));
            try {
                return run(60, command.toArray(String[]::new));
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    private static String run(int timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(SCRIPT.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + text);
        }
        return text;
    }
}
