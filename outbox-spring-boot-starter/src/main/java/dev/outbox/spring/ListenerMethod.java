package dev.outbox.spring;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outbox.sdk.Subscriber;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.sql.Connection;
import java.util.Map;
import javax.sql.DataSource;

/** One {@code @OutboxListener} method: its signature checked once, and how a message calls it. */
final class ListenerMethod {

    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

    private final Object bean;
    private final Method method;
    private final OutboxListener annotation;
    private final Class<?> bodyType; // JsonNode, or the type the body binds to
    private final boolean transactional;
    private final String name;

    /** {@code declared} is checked; {@code invocable} (the proxy's, where there is one) is called. */
    ListenerMethod(Object bean, Method declared, Method invocable, OutboxListener annotation) {
        this.bean = bean;
        this.method = invocable;
        this.annotation = annotation;
        this.name = declared.getDeclaringClass().getName() + "." + declared.getName();
        Type[] params = declared.getGenericParameterTypes();
        boolean headersFirst = params.length >= 2 && isStringObjectMap(params[0]);
        this.transactional = params.length == 3 && declared.getParameterTypes()[2] == Connection.class;
        if (!headersFirst || (params.length == 3 && !transactional) || params.length > 3) {
            throw new IllegalStateException("@OutboxListener method " + name
                    + " must take (Map<String, Object> headers, JsonNode body), (Map<String, Object> headers, T body)"
                    + " or (Map<String, Object> headers, JsonNode|T body, java.sql.Connection connection)");
        }
        this.bodyType = declared.getParameterTypes()[1];
        invocable.setAccessible(true);
    }

    private static boolean isStringObjectMap(Type type) {
        return type instanceof ParameterizedType p
                && p.getRawType() == Map.class
                && p.getActualTypeArguments()[0] == String.class
                && p.getActualTypeArguments()[1] == Object.class;
    }

    OutboxListener annotation() {
        return annotation;
    }

    boolean transactional() {
        return transactional;
    }

    String describe() {
        return name;
    }

    /** Starts {@code subscriber} calling this method for each message. */
    void start(Subscriber subscriber, DataSource dataSource) throws java.io.IOException {
        if (transactional) {
            subscriber.startTransactional(
                    dataSource, (headers, body, connection) -> call(headers, bind(body), connection));
        } else {
            // One binding for both kinds of listener: Jackson 2 with the modules on the class path.
            subscriber.start((headers, body) -> call(headers, bind(body)));
        }
    }

    private Object bind(JsonNode body) {
        if (bodyType == JsonNode.class) {
            return body;
        }
        try {
            return JSON.treeToValue(body, bodyType);
        } catch (JsonProcessingException e) {
            // Any exception but RetryException dead-letters the message (reason rejected), which a body that does not
            // bind deserves.
            throw new IllegalArgumentException(
                    "body does not bind to " + bodyType.getName() + ": " + e.getOriginalMessage(), e);
        }
    }

    private void call(Object... args) throws Exception {
        try {
            method.invoke(bean, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
                throw ex;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}
