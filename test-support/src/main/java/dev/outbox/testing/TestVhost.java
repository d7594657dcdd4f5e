package dev.outbox.testing;

import java.net.URI;

/**
 * A RabbitMQ virtual host of one's own: its DLX, dead_letters and unrouted are not shared with
 * any other test. Made with rabbitmqctl on the local node; {@link #close()} deletes it.
 */
public final class TestVhost implements AutoCloseable {

    private final String name;
    private final String uri;

    private TestVhost(String name, String uri) {
        this.name = name;
        this.uri = uri;
    }

    static TestVhost create(RabbitFixture broker, String prefix) {
        String name = RabbitFixture.uniqueName(prefix);
        URI base = URI.create(broker.uri());
        String user = base.getUserInfo() == null ? "guest" : base.getUserInfo().split(":")[0];
        BrokerFaults.rabbitmqctl("add_vhost", name);
        BrokerFaults.rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*");
        String uri = base.getScheme() + "://" + base.getRawUserInfo() + "@" + base.getHost() + ":"
                + (base.getPort() < 0 ? 5672 : base.getPort()) + "/" + name;
        return new TestVhost(name, uri);
    }

    public String name() {
        return name;
    }

    /** The AMQP URI of this virtual host. */
    public String uri() {
        return uri;
    }

    @Override
    public void close() {
        try {
            BrokerFaults.rabbitmqctl("delete_vhost", name);
        } catch (IllegalStateException alreadyGone) {
            // nothing to clean
        }
    }
}
