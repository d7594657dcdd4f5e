package dev.outbox.spring.actuate;

import dev.outbox.sdk.Broker;
import dev.outbox.sdk.Subscriber;
import dev.outbox.spring.OutboxListeners;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * What the {@code outbox} health contributor reports, the same under Boot 3's and Boot 4's
 * Actuator: DOWN when a broker connection the application opened is closed, or a listener is
 * recovering or has failed for good; each listener's queue and state in the details. A broker
 * not connected yet (no listener, nothing sent) is not a failure: writing events needs none.
 */
public final class OutboxHealth {

    /** Up or down, with details. */
    public record Result(boolean up, Map<String, Object> details) {}

    private final OutboxListeners listeners;
    private final ListableBeanFactory beans;

    public OutboxHealth(OutboxListeners listeners, ListableBeanFactory beans) {
        this.listeners = listeners;
        this.beans = beans;
    }

    public Result check() {
        boolean up = true;
        Map<String, Object> details = new LinkedHashMap<>();
        Map<String, Object> brokers = new LinkedHashMap<>();
        for (String name : beans.getBeanNamesForType(Broker.class, true, false)) {
            if (beans instanceof ConfigurableListableBeanFactory f && !f.containsSingleton(name)) {
                brokers.put(name, "not connected yet");
                continue;
            }
            boolean open = beans.getBean(name, Broker.class).isOpen();
            up &= open;
            brokers.put(name, open ? "connected" : "disconnected");
        }
        details.put("broker", brokers);
        Map<String, Object> byListener = new LinkedHashMap<>();
        for (OutboxListeners.Listener l : listeners.listeners()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("queue", l.queue());
            one.put("state", l.state().name());
            if (l.failure() != null) {
                one.put("failure", l.failure());
            }
            up &= l.state() != Subscriber.State.FAILED && l.state() != Subscriber.State.RECOVERING;
            byListener.put(l.name(), one);
        }
        details.put("listeners", byListener);
        return new Result(up, details);
    }
}
