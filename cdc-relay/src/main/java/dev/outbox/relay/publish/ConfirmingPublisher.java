package dev.outbox.relay.publish;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.config.Setting;
import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.sdk.Headers;
import dev.outbox.sdk.wire.BrokerErrors;
import dev.outbox.sdk.wire.OutgoingMessage;
import dev.outbox.sdk.wire.Topology;
import dev.outbox.sdk.wire.WireFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a batch of event messages on one channel with publisher confirms and
 * {@code mandatory}, and returns only when RabbitMQ has confirmed every one of them.
 *
 * <ul>
 * <li>Messages go out in batch order with up to {@code RELAY_CONFIRM_WINDOW} awaiting
 *     confirms; confirms are handled asynchronously, not one wait per message.</li>
 * <li>A nack, a confirm timeout or a lost connection: the unconfirmed messages are published
 *     again (after a capped backoff), never skipped. A broker outage blocks the batch until
 *     the broker is back.</li>
 * <li>A returned (unroutable) message is sent to {@code unrouted} before it counts as done.</li>
 * <li>A message that would fail every time (body over {@code RELAY_MAX_MESSAGE_BYTES}, an
 *     exchange RabbitMQ refuses, a message that closes the channel on its own) goes to
 *     {@code DLX} with reason {@code relay_error} and the error in its headers; the batch
 *     goes on.</li>
 * </ul>
 * One publishing thread: batches are {@link #send sent} in commit order and {@link #finish
 * finished} in the same order, so the next batch can go out while the previous one is being
 * confirmed.
 */
public final class ConfirmingPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConfirmingPublisher.class);
    private static final long MAX_BACKOFF_MS = 5_000;
    static final String RELAY_ERROR = "relay_error";

    private enum Kind { EVENT, UNROUTED, RELAY_ERROR }

    private record Pending(int index, Kind kind, String error) {
    }

    private final BrokerConnector connector;
    private final RelayConfig config;
    private final RelayMetrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<String> declaredExchanges = new HashSet<>();

    private Connection connection;
    private Channel channel;
    private Channel declareChannel;
    /** Rounds sent and not yet collected: at most the one being finished and the one just sent. */
    private final List<PublishRound> rounds = new CopyOnWriteArrayList<>();
    private volatile long stopDeadline = Long.MAX_VALUE;
    private volatile boolean outageLogged;
    private boolean topologyDeclared;

    public ConfirmingPublisher(BrokerConnector connector, RelayConfig config, RelayMetrics metrics) {
        this.connector = connector;
        this.config = config;
        this.metrics = metrics;
    }

    /**
     * Publishes {@code batch} and blocks until every message is confirmed (or dead-lettered as
     * {@code relay_error}): {@link #finish}{@code (}{@link #send}{@code (batch))}.
     *
     * @throws InterruptedException when the thread is interrupted or a stop's deadline passed;
     *                              the batch then counts as not published
     */
    public void publishAll(List<OutgoingMessage> batch) throws InterruptedException {
        finish(send(batch));
    }

    /**
     * Sends {@code batch} once, without waiting for its confirms, so the caller can read the
     * next batch while RabbitMQ confirms this one. Nothing counts as published until
     * {@link #finish} returned for it. A broker that cannot be reached here is not an error:
     * {@link #finish} reconnects and publishes the whole batch.
     */
    public InFlight send(List<OutgoingMessage> batch) throws InterruptedException {
        return send(batch, null);
    }

    private InFlight send(List<OutgoingMessage> batch, List<Pending> items) throws InterruptedException {
        InFlight inFlight = new InFlight(batch, items);
        if (inFlight.pending.isEmpty()) {
            return inFlight;
        }
        lock.lockInterruptibly();
        try {
            checkStop();
            try {
                ensureOpen();
                inFlight.firstRound = sendRound(batch, screen(batch, inFlight.pending));
            } catch (IOException | ShutdownSignalException e) {
                connectionLost(e, batch.size());
            }
        } finally {
            lock.unlock();
        }
        return inFlight;
    }

    /**
     * Blocks until every message of {@code inFlight} is confirmed (or dead-lettered as
     * {@code relay_error}), publishing nacked, timed-out and lost ones again with backoff.
     * Batches must be finished in the order they were sent.
     *
     * @throws InterruptedException when the thread is interrupted or a stop's deadline passed;
     *                              the batch then counts as not published
     */
    public void finish(InFlight inFlight) throws InterruptedException {
        finish(inFlight, false);
    }

    /**
     * Like {@link #finish}, but a message RabbitMQ nacks (a queue full with
     * {@code overflow=reject-publish}, most often) is not published again here: it is returned
     * {@link Parked parked}, for {@link #sendParked} after a backoff, so that messages for
     * other queues keep flowing meanwhile. Everything not returned is confirmed.
     */
    public Parked finishOrPark(InFlight inFlight) throws InterruptedException {
        return finish(inFlight, true);
    }

    private Parked finish(InFlight inFlight, boolean park) throws InterruptedException {
        List<OutgoingMessage> batch = inFlight.batch;
        List<Pending> parked = new ArrayList<>();
        if (batch.isEmpty()) {
            return new Parked(batch, parked);
        }
        lock.lockInterruptibly();
        try {
            List<Pending> pending = inFlight.pending;
            int attempt = 0;
            int channelFailures = 0;
            SentRound sent = inFlight.firstRound;
            inFlight.firstRound = null;
            if (sent == null && !pending.isEmpty()) {
                backoff(attempt++);  // send() could not reach the broker
            }
            while (!pending.isEmpty()) {
                checkStop();
                try {
                    RoundOutcome outcome;
                    if (sent != null) {
                        outcome = collectRound(batch, sent);
                        sent = null;
                    } else {
                        ensureOpen();
                        List<Pending> sendable = screen(batch, pending);
                        outcome = channelFailures >= 2
                                ? publishOneByOne(batch, sendable)
                                : collectRound(batch, sendRound(batch, sendable));
                    }
                    pending = outcome.next();
                    if (park && !outcome.nacked().isEmpty()) {
                        pending = new ArrayList<>(pending);
                        pending.removeAll(outcome.nacked());
                        parked.addAll(outcome.nacked());
                    }
                    if (outcome.channelFailure() != null) {
                        channelFailures++;
                        LOG.warn("Publishing channel closed ({}); {} messages of the batch are published again",
                                outcome.channelFailure(), outcome.retried());
                        closeChannelIfCurrent(outcome.channel());
                    }
                    int retried = outcome.retried() - (park ? outcome.nacked().size() : 0);
                    if (!park && !outcome.nacked().isEmpty()) {
                        LOG.warn("RabbitMQ nacked {} messages (a queue may be full with overflow=reject-publish);"
                                + " publishing them again after a backoff", outcome.nacked().size());
                    }
                    if (retried > 0) {
                        metrics.republished(retried);
                        backoff(attempt++);
                    } else {
                        attempt = 0;
                    }
                } catch (IOException | ShutdownSignalException e) {
                    connectionLost(e, pending.size());
                    backoff(attempt++);
                }
            }
        } finally {
            inFlight.pending = List.of();
            metrics.unconfirmed().set(outstanding());
            lock.unlock();
        }
        return new Parked(batch, parked);
    }

    /** Sends parked messages again, each as it was (event, unrouted copy or relay error); finish as any batch. */
    public InFlight sendParked(Parked parked) throws InterruptedException {
        return send(parked.batch, parked.items);
    }

    /**
     * Messages RabbitMQ nacked, set aside by {@link #finishOrPark}: still unpublished, never
     * to be counted as done until {@link #sendParked} and a finish confirmed them.
     */
    public static final class Parked {
        /** Nothing parked. */
        public static final Parked NONE = new Parked(List.of(), List.of());

        private final List<OutgoingMessage> batch;
        private final List<Pending> items;

        private Parked(List<OutgoingMessage> batch, List<Pending> items) {
            this.batch = batch;
            this.items = List.copyOf(items);
        }

        public int size() {
            return items.size();
        }

        public boolean isEmpty() {
            return items.isEmpty();
        }

        /** Where the parked messages were going, for the log: e.g. {@code {order=12}} (exchange and count). */
        public String describe() {
            Map<String, Integer> byExchange = new java.util.TreeMap<>();
            for (Pending p : items) {
                byExchange.merge(batch.get(p.index()).exchange(), 1, Integer::sum);
            }
            return byExchange.toString();
        }
    }

    /** A batch handed to {@link #send} and not yet {@link #finish}ed. */
    public static final class InFlight {
        private final List<OutgoingMessage> batch;
        private final int size;
        private List<Pending> pending;
        private SentRound firstRound;

        private InFlight(List<OutgoingMessage> batch, List<Pending> items) {
            this.batch = batch;
            if (items != null) {
                this.pending = new ArrayList<>(items);
            } else {
                this.pending = new ArrayList<>(batch.size());
                for (int i = 0; i < batch.size(); i++) {
                    pending.add(new Pending(i, Kind.EVENT, null));
                }
            }
            this.size = pending.size();
        }

        /** Messages in it when it was sent. */
        public int size() {
            return size;
        }
    }

    /**
     * Forgets batches sent and never finished, because the stream that sent them ended (they
     * will be read from the WAL and published again): their rounds must not linger in the
     * confirm bookkeeping or the {@code relay_messages_unconfirmed} gauge.
     */
    public void abandonInFlight() {
        lock.lock();
        try {
            rounds.clear();
            metrics.unconfirmed().set(0);
        } finally {
            lock.unlock();
        }
    }

    /** Opens the connection now if it is closed; for the maintenance thread, so readiness recovers while idle. */
    public void reconnectIfIdle() {
        if (!lock.tryLock()) {
            return;
        }
        try {
            ensureOpen();
        } catch (dev.outbox.relay.engine.StartupCheckException permanent) {
            // The next batch fails the stream with it; here, only say so.
            metrics.brokerConnected(false);
            LOG.error("{}", permanent.getMessage());
            closeQuietly();
        } catch (IOException | RuntimeException e) {
            connectionLost(e, 0);
        } finally {
            lock.unlock();
        }
    }

    /** Gives the batch in flight until {@code timeoutMillis} to finish, then makes it fail. */
    public void stopWithin(long timeoutMillis) {
        stopDeadline = System.currentTimeMillis() + timeoutMillis;
        for (PublishRound current : rounds) {
            synchronized (current) {
                current.notifyAll();
            }
        }
    }

    /** Marks messages that can never be published as relay errors and declares the exchanges of the rest. */
    private List<Pending> screen(List<OutgoingMessage> batch, List<Pending> pending) throws IOException {
        if (!topologyDeclared) {
            Topology.declareUnrouted(declareChannel);
            Topology.declareDeadLetters(declareChannel);
            topologyDeclared = true;
        }
        List<Pending> sendable = new ArrayList<>(pending.size());
        for (Pending p : pending) {
            if (p.kind() != Kind.EVENT) {
                sendable.add(p);
                continue;
            }
            OutgoingMessage m = batch.get(p.index());
            if (m.body().length > config.maxMessageBytes()) {
                sendable.add(relayError(m, p, "body of " + m.body().length + " bytes is larger than "
                        + Setting.MAX_MESSAGE_BYTES.variable() + "=" + config.maxMessageBytes()));
                continue;
            }
            String refused = declareExchange(m.exchange());
            sendable.add(refused == null ? p : relayError(m, p, refused));
        }
        return sendable;
    }

    private Pending relayError(OutgoingMessage m, Pending p, String error) {
        LOG.error("Cannot publish {}: {}. Sending it to {} with reason {}; the stream goes on.",
                m.describe(), error, Topology.DLX, RELAY_ERROR);
        metrics.relayError(RELAY_ERROR);
        return new Pending(p.index(), Kind.RELAY_ERROR, error);
    }

    private String declareExchange(String exchange) throws IOException {
        if (declaredExchanges.contains(exchange)) {
            return null;
        }
        try {
            Topology.declareEventExchange(declareChannel, exchange);
            declaredExchanges.add(exchange);
            return null;
        } catch (IOException e) {
            if (e.getCause() instanceof ShutdownSignalException signal && !signal.isHardError()) {
                // A channel error: RabbitMQ refuses this exchange (reserved name, other type or arguments).
                declareChannel = connection.createChannel();
                return "RabbitMQ refused to declare exchange '" + exchange + "': " + BrokerErrors.describe(signal);
            }
            throw e;
        }
    }

    /** What a round left to do: {@code next} to publish again (nacked ones included), of which {@code nacked} were refused by the broker. */
    private record RoundOutcome(List<Pending> next, int retried, String channelFailure, Set<Pending> nacked, Channel channel) {

        RoundOutcome(List<Pending> next, int retried, String channelFailure) {
            this(next, retried, channelFailure, Set.of(), null);
        }
    }

    /** The messages of one round, as sent on one channel. */
    private record SentRound(PublishRound round, List<Pending> items, int sent) {
    }

    private SentRound sendRound(List<OutgoingMessage> batch, List<Pending> items) throws InterruptedException {
        PublishRound current = new PublishRound(channel);
        rounds.add(current);
        int sent = 0;
        try {
            for (Pending p : items) {
                checkStop();
                while (current.outstandingCount() >= config.confirmWindow() && current.channelFailure() == null) {
                    synchronized (current) {
                        current.wait(10);
                    }
                    checkStop();
                }
                if (current.channelFailure() != null) {
                    break;
                }
                OutgoingMessage m = batch.get(p.index());
                current.sent(channel.getNextPublishSeqNo(), sent);
                publish(m, p);
                sent++;
            }
        } catch (IOException | AlreadyClosedException e) {
            current.channelClosed(e.getMessage());
        } catch (InterruptedException e) {
            rounds.remove(current);
            throw e;
        }
        metrics.unconfirmed().set(outstanding());
        return new SentRound(current, items, sent);
    }

    private RoundOutcome collectRound(List<OutgoingMessage> batch, SentRound sentRound) throws InterruptedException {
        PublishRound current = sentRound.round();
        List<Pending> items = sentRound.items();
        int sent = sentRound.sent();
        long timeout = Math.min(config.confirmTimeout().toMillis(), Math.max(0, stopDeadline - System.currentTimeMillis()));
        boolean allConfirmed;
        try {
            allConfirmed = current.awaitConfirms(timeout);
            checkStop();
        } finally {
            rounds.remove(current);
        }

        List<Pending> next = new ArrayList<>();
        Set<Pending> nacked = new HashSet<>();
        Set<Integer> nackedPositions = current.nackedPositions();
        Set<Integer> failedPositions = new HashSet<>(current.failed());
        for (int pos = sent; pos < items.size(); pos++) {
            failedPositions.add(pos);
        }
        int retried = 0;
        for (int pos = 0; pos < items.size(); pos++) {
            Pending p = items.get(pos);
            OutgoingMessage m = batch.get(p.index());
            if (failedPositions.contains(pos)) {
                next.add(p);
                retried++;
                if (nackedPositions.contains(pos)) {
                    nacked.add(p);
                }
            } else if (current.returnedMessageIds().contains(m.messageId())) {
                if (p.kind() == Kind.EVENT) {
                    LOG.info("{} had no route and no alternate exchange; sending it to '{}'", m.describe(), Topology.UNROUTED);
                    next.add(new Pending(p.index(), Kind.UNROUTED, null));
                } else {
                    // Even unrouted (or DLX) had no queue: someone deleted it. Declare it again and retry;
                    // a message is never counted as done while nothing holds it.
                    LOG.warn("{} was returned by '{}' too; re-declaring the unrouted and dead-letter queues and retrying",
                            m.describe(), p.kind() == Kind.UNROUTED ? Topology.UNROUTED : Topology.DLX);
                    topologyDeclared = false;
                    next.add(p);
                    retried++;
                }
            } else {
                confirmed(m, p);
            }
        }
        if (!allConfirmed && current.channelFailure() == null) {
            LOG.warn("{} confirms did not arrive within {} ms (or a stop is in progress); publishing those messages again",
                    current.outstandingCount(), timeout);
            // The channel is suspect; confirms are bound to their channel, so a late one cannot be taken for a new round's.
            closeChannelIfCurrent(current.channel());
        }
        return new RoundOutcome(next, retried, current.channelFailure(), nacked, current.channel());
    }

    /** After repeated channel failures: one message per round, to find the one that breaks the channel. */
    private RoundOutcome publishOneByOne(List<OutgoingMessage> batch, List<Pending> items) throws InterruptedException {
        List<Pending> next = new ArrayList<>();
        int retried = 0;
        for (int i = 0; i < items.size(); i++) {
            Pending p = items.get(i);
            RoundOutcome single;
            try {
                ensureOpen();
                single = collectRound(batch, sendRound(batch, List.of(p)));
            } catch (IOException | ShutdownSignalException e) {
                connectionLost(e, items.size() - i);
                next.addAll(items.subList(i, items.size()));
                return new RoundOutcome(next, items.size() - i, null);
            }
            if (single.channelFailure() != null) {
                closeChannelIfCurrent(single.channel());
                String failure = single.channelFailure();
                if (failure.contains("NOT_FOUND")) {
                    declaredExchanges.clear();  // deleted behind our back: declare again and retry
                    next.add(p);
                    retried++;
                } else if (p.kind() == Kind.EVENT) {
                    next.add(relayError(batch.get(p.index()), p, "RabbitMQ closed the channel when it was published: " + failure));
                } else {
                    next.add(p);
                    retried++;
                }
            } else {
                next.addAll(single.next());
                retried += single.retried();
            }
        }
        return new RoundOutcome(next, retried, null);
    }

    private void publish(OutgoingMessage m, Pending p) throws IOException {
        AMQP.BasicProperties props = WireFormat.properties(m, config.appId());
        switch (p.kind()) {
            case EVENT -> channel.basicPublish(m.exchange(), m.routingKey(), true, props, m.body());
            case UNROUTED -> channel.basicPublish(Topology.UNROUTED, m.routingKey(), true,
                    withHeaders(props, Map.of(Headers.ORIGINAL_EXCHANGE, m.exchange(),
                            Headers.ORIGINAL_ROUTING_KEY, m.routingKey())), m.body());
            case RELAY_ERROR -> {
                Map<String, Object> extra = new HashMap<>();
                extra.put(Headers.DEAD_LETTER_REASON, RELAY_ERROR);
                extra.put(Headers.ERROR, truncate(p.error(), 1000));
                extra.put(Headers.ORIGINAL_EXCHANGE, m.exchange());
                extra.put(Headers.ORIGINAL_ROUTING_KEY, m.routingKey());
                byte[] body = m.body();
                if (body.length > config.maxMessageBytes()) {
                    extra.put(Headers.BODY_OMITTED_BYTES, Integer.toString(body.length));
                    body = new byte[0];
                }
                channel.basicPublish(Topology.DLX, m.routingKey(), true, withHeaders(props, extra), body);
            }
            default -> throw new IllegalStateException(p.kind().toString());
        }
    }

    private void confirmed(OutgoingMessage m, Pending p) {
        if (p.kind() == Kind.EVENT) {
            metrics.published(m.exchange(), 1);
        }
    }

    private static AMQP.BasicProperties withHeaders(AMQP.BasicProperties props, Map<String, Object> extra) {
        Map<String, Object> headers = new HashMap<>(props.getHeaders());
        headers.putAll(extra);
        return props.builder().headers(headers).build();
    }

    private void ensureOpen() throws IOException {
        if (connection != null && connection.isOpen() && channel != null && channel.isOpen()
                && declareChannel != null && declareChannel.isOpen()) {
            return;
        }
        if (connection == null || !connection.isOpen()) {
            closeQuietly();
            connection = connector.connect("publisher");
            connection.addShutdownListener(cause -> metrics.brokerConnected(false));
            declaredExchanges.clear();
        }
        if (declareChannel == null || !declareChannel.isOpen()) {
            declareChannel = connection.createChannel();
            declareTopology(declareChannel, connector.endpoint());
        }
        if (channel == null || !channel.isOpen()) {
            Channel opened = connection.createChannel();
            opened.confirmSelect();
            // Confirms carry sequence numbers of their own channel only: a late confirm from a
            // channel that was replaced must never be taken for a message of the new one.
            opened.addConfirmListener(
                    (seq, multiple) -> onConfirm(opened, seq, multiple, true),
                    (seq, multiple) -> onConfirm(opened, seq, multiple, false));
            opened.addReturnListener(returned -> {
                for (PublishRound r : rounds) {
                    if (r.channel() == opened) {
                        r.returned(returned.getProperties().getMessageId());
                    }
                }
            });
            opened.addShutdownListener(cause -> {
                for (PublishRound r : rounds) {
                    if (r.channel() == opened) {
                        r.channelClosed(BrokerErrors.describe(cause));
                    }
                }
            });
            channel = opened;
        }
        metrics.brokerConnected(true);
        if (outageLogged || !loggedConnected) {
            LOG.info("Connected to RabbitMQ at {} (publisher confirms on)", connector.endpoint());
            outageLogged = false;
            loggedConnected = true;
        }
    }

    private boolean loggedConnected;

    /**
     * Declares unrouted and DLX with their queues. A refused permission is permanent: the relay
     * stops and says which permissions it needs instead of retrying for ever.
     */
    public static void declareTopology(Channel channel, String endpoint) throws IOException {
        try {
            Topology.declareUnrouted(channel);
            Topology.declareDeadLetters(channel);
        } catch (IOException e) {
            if (BrokerErrors.replyCode(e) == BrokerErrors.ACCESS_REFUSED) {
                throw new dev.outbox.relay.engine.StartupCheckException("RabbitMQ at " + endpoint + " refused the relay's user: "
                        + BrokerErrors.describe(e) + ". The relay needs configure and write permission on its"
                        + " event exchanges, unrouted, DLX and dead_letters, and read permission on unrouted, DLX and"
                        + " dead_letters (see the README's RabbitMQ permissions).", e);
            }
            throw e;
        }
    }

    private void onConfirm(Channel on, long sequence, boolean multiple, boolean ack) {
        for (PublishRound r : rounds) {
            if (r.channel() == on) {
                r.confirm(sequence, multiple, ack);
            }
        }
        metrics.unconfirmed().set(outstanding());
    }

    private int outstanding() {
        int n = 0;
        for (PublishRound r : rounds) {
            n += r.outstandingCount();
        }
        return n;
    }

    private void connectionLost(Exception e, int unconfirmed) {
        if (e instanceof dev.outbox.relay.engine.StartupCheckException permanent) {
            throw permanent;
        }
        metrics.brokerConnected(false);
        if (!outageLogged) {
            LOG.warn("RabbitMQ at {} is unreachable or closed the connection ({}); reconnecting with backoff,"
                    + " {} unconfirmed messages will be published again", connector.endpoint(), BrokerErrors.describe(e), unconfirmed);
            outageLogged = true;
        } else {
            LOG.debug("Still cannot reach RabbitMQ: {}", BrokerErrors.describe(e));
        }
        closeQuietly();
    }

    /** Waits {@code millis}, or less when a stop's deadline comes first (then throws, as every wait here does). */
    public void pause(long millis) throws InterruptedException {
        long untilStop = stopDeadline - System.currentTimeMillis();
        TimeUnit.MILLISECONDS.sleep(Math.max(0, Math.min(millis, untilStop)));
        checkStop();
    }

    /** The capped exponential backoff every retry here uses: 100 ms, doubling, at most 5 s. */
    public static long backoffMillis(int attempt) {
        return Math.min(MAX_BACKOFF_MS, 100L << Math.min(attempt, 6));
    }

    private void backoff(int attempt) throws InterruptedException {
        pause(backoffMillis(attempt));
    }

    private void checkStop() throws InterruptedException {
        if (Thread.currentThread().isInterrupted() || System.currentTimeMillis() > stopDeadline) {
            throw new InterruptedException("publisher stopping: batch not confirmed in time, it will be published again after restart");
        }
    }

    /**
     * Closes {@code failed} if it is still the publishing channel. A round sent on a channel that
     * was already replaced must not close the new one: that would fail the batch sent on it,
     * whose finish would close the next, and so on, re-publishing every batch while traffic flows.
     */
    private void closeChannelIfCurrent(Channel failed) {
        if (failed != null && channel == failed) {
            closeChannel();
        }
    }

    private void closeChannel() {
        Channel c = channel;
        channel = null;
        if (c != null && c.isOpen()) {
            try {
                c.abort();
            } catch (Exception ignored) {
                // closing anyway
            }
        }
    }

    private void closeQuietly() {
        closeChannel();
        declareChannel = null;
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.abort(2000);
            } catch (Exception ignored) {
                // closing anyway
            }
        }
    }

    private static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max) + "...";
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (connection != null && connection.isOpen()) {
                try {
                    connection.close(2000);
                } catch (IOException | RuntimeException ignored) {
                    // closing anyway
                }
            }
            closeQuietly();
            metrics.brokerConnected(false);
        } finally {
            lock.unlock();
        }
    }
}
