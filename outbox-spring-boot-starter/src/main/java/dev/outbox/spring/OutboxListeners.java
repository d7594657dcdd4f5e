package dev.outbox.spring;

import dev.outbox.protocol.EventTracing;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.Subscriber;
import dev.outbox.sdk.SubscriberMetrics;
import dev.outbox.sdk.SubscriptionOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.SmartLifecycle;

/**
 * The running {@code @OutboxListener}s: one {@link Subscriber} each, started with the
 * application context and closed with it (closing lets running handlers finish, up to
 * {@code outbox.listener.close-timeout}).
 */
public final class OutboxListeners implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(OutboxListeners.class);

    /** What the health endpoint shows of one listener. */
    public record Listener(String name, String queue, Subscriber.State state, String failure) {}

    private final ListenerMethods methods;
    private final ObjectProvider<Broker> broker;
    private final DataSource dataSource;
    private final OutboxProperties.Listener defaults;
    private final SubscriberMetrics metrics;
    private final EventTracing tracing;
    private final org.springframework.core.env.PropertyResolver placeholders;
    private final Map<String, Subscriber> running = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean started;

    OutboxListeners(
            ListenerMethods methods,
            ObjectProvider<Broker> broker,
            DataSource dataSource,
            OutboxProperties.Listener defaults,
            SubscriberMetrics metrics,
            EventTracing tracing,
            org.springframework.core.env.PropertyResolver placeholders) {
        this.methods = methods;
        this.placeholders = placeholders;
        this.broker = broker;
        this.dataSource = dataSource;
        this.defaults = defaults;
        this.metrics = metrics;
        this.tracing = tracing;
    }

    @Override
    public synchronized void start() {
        List<ListenerMethod> found = methods.found();
        Map<ListenerMethod, SubscriptionOptions> options = new LinkedHashMap<>();
        Map<String, String> byQueue = new HashMap<>();
        for (ListenerMethod m : found) {
            SubscriptionOptions o = options(m);
            String other = byQueue.putIfAbsent(o.queue(), m.describe());
            if (other != null) {
                throw new IllegalStateException(
                        "@OutboxListener " + m.describe() + " and " + other
                                + " both consume queue '" + o.queue()
                                + "': each queue belongs to one listener (two would share its messages); give one another queue");
            }
            options.put(m, o);
        }
        try {
            for (Map.Entry<ListenerMethod, SubscriptionOptions> e : options.entrySet()) {
                ListenerMethod m = e.getKey();
                Subscriber subscriber = new Subscriber(broker.getObject(), patterns(m), e.getValue(), m.describe());
                running.put(m.describe(), subscriber);
                m.start(subscriber, dataSource);
                LOG.info(
                        "@OutboxListener {} consuming queue {} ({})",
                        m.describe(),
                        e.getValue().queue(),
                        String.join(", ", patterns(m)));
            }
        } catch (IOException | RuntimeException e) {
            closeAll();
            throw new IllegalStateException("could not start the @OutboxListeners: " + e.getMessage(), e);
        }
        started = true;
    }

    private SubscriptionOptions options(ListenerMethod m) {
        OutboxListener a = m.annotation();
        try {
            Duration backoff = a.backoff().isEmpty() ? defaults.backoff() : DurationStyle.detectAndParse(a.backoff());
            SubscriptionOptions o = SubscriptionOptions.queue(queue(m))
                    .prefetch(a.prefetch() >= 0 ? a.prefetch() : defaults.prefetch())
                    .concurrency(a.concurrency() >= 0 ? a.concurrency() : defaults.concurrency())
                    .maxRetries(a.maxRetries() >= 0 ? a.maxRetries() : defaults.maxRetries())
                    .backoff(backoff, defaults.backoffMultiplier())
                    .maxBackoff(defaults.maxBackoff())
                    .deliveryLimit(defaults.deliveryLimit())
                    .closeTimeout(defaults.closeTimeout())
                    .metrics(metrics)
                    .tracing(tracing);
            return a.partitions() > 1 ? o.partitions(a.partitions()) : o;
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(
                    "@OutboxListener " + m.describe() + " (with the outbox.listener.*" + " defaults): "
                            + e.getMessage(),
                    e);
        }
    }

    /** The annotation's queue, its {@code ${...}} placeholders resolved. */
    private String queue(ListenerMethod m) {
        return resolve(m, "queue", m.annotation().queue());
    }

    private List<String> patterns(ListenerMethod m) {
        return java.util.Arrays.stream(m.annotation().patterns())
                .map(p -> resolve(m, "patterns", p))
                .toList();
    }

    private String resolve(ListenerMethod m, String attribute, String value) {
        try {
            return placeholders.resolveRequiredPlaceholders(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(
                    "@OutboxListener " + m.describe() + ": " + attribute + " '" + value + "': " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void stop() {
        closeAll();
        started = false;
    }

    private void closeAll() {
        running.forEach((name, subscriber) -> {
            try {
                subscriber.close();
            } catch (RuntimeException e) {
                LOG.warn("@OutboxListener {} did not close cleanly: {}", name, e.toString());
            }
        });
        running.clear();
    }

    @Override
    public boolean isRunning() {
        return started;
    }

    @Override
    public boolean isAutoStartup() {
        return defaults.autoStartup();
    }

    /** Late: listeners take messages once the rest of the application is up, and stop before it goes down. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 512;
    }

    /** Every listener found, with its subscription's state ({@code NEW} before start). */
    public List<Listener> listeners() {
        List<Listener> out = new ArrayList<>();
        for (ListenerMethod m : methods.found()) {
            Subscriber s = running.get(m.describe());
            out.add(new Listener(
                    m.describe(),
                    queue(m),
                    s == null ? Subscriber.State.NEW : s.state(),
                    s == null ? null : s.failure().map(Throwable::toString).orElse(null)));
        }
        return out;
    }
}
