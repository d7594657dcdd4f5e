package dev.outbox.relay.publish;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ShutdownSignalException;
import dev.outbox.protocol.BrokerErrors;
import dev.outbox.protocol.Headers;
import dev.outbox.protocol.OutgoingMessage;
import dev.outbox.protocol.Topology;
import dev.outbox.protocol.WireFormat;
import dev.outbox.relay.config.EnvironmentException;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.config.Setting;
import dev.outbox.relay.metrics.RelayMetrics;
import dev.outbox.relay.publish.PublishLedger.Entry;
import dev.outbox.relay.publish.PublishLedger.Kind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the stream's messages to RabbitMQ in commit order, with publisher confirms and
 * {@code mandatory}, and says how far the stream is confirmed ({@link #confirmedThrough()}).
 * The rules (what goes out next, what a nack, a return or a lost channel does) are
 * {@link PublishLedger}'s; this class drives a channel with them.
 *
 * <ul>
 * <li>Up to {@code RELAY_CONFIRM_WINDOW} messages await confirms at once; confirms are handled
 *     as they arrive, on the connection's thread.</li>
 * <li>A lost channel or connection, or confirms that do not come within
 *     {@code RELAY_CONFIRM_TIMEOUT_MS}: the unconfirmed messages are published again in their
 *     order, before anything later. A broker outage blocks {@link #publish} until it is back.</li>
 * <li>A nack parks the message for a capped backoff; later messages of its routing key wait
 *     behind it, the others flow.</li>
 * <li>A returned (unroutable) event goes to {@code unrouted} before it counts as confirmed.</li>
 * <li>A message that can never be published (larger than the broker takes, headers AMQP cannot
 *     carry, an exchange RabbitMQ refuses, anything the client throws for it, a message that
 *     closes the channel each time) is replaced by a copy to {@code DLX} with reason
 *     {@code relay_error}, built to fit; the stream goes on.</li>
 * </ul>
 * One thread publishes at a time; the others ({@link #flush()} from a timer) skip their turn.
 */
public final class ConfirmingPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConfirmingPublisher.class);
    private static final long MAX_BACKOFF_MS = 5_000;
    private static final Pattern MAX_SIZE = Pattern.compile("larger than configured max size (\\d+)");
    static final String RELAY_ERROR = RelayMetrics.RELAY_ERROR;

    private final BrokerSession session;
    private final RelayConfig config;
    private final RelayMetrics metrics;
    private final PublishLedger ledger = new PublishLedger();
    private final ReentrantLock publishing = new ReentrantLock();
    private final BrokerSession.Listener listener = new ChannelEvents();

    private Channel channel;
    private long channelNumber = -1;
    private int frameMax;
    private volatile long stopDeadline = Long.MAX_VALUE;
    private volatile boolean outageLogged;
    private boolean loggedConnected;
    /** The broker's max_message_size, once a refusal told it. */
    private volatile long brokerMaxBytes = Long.MAX_VALUE;
    /** Channels the broker closed since the last confirm: two in a row, and messages go one at a time to find the cause. */
    private int channelErrorsWithoutProgress;
    /** While messages go one at a time: until this position is confirmed. */
    private long probeThrough = -1;

    private volatile boolean redeclare;
    /**
     * Nacks since the last ack: at {@link #NACKS_BEFORE_NEW_CHANNEL} the relay publishes on a new
     * channel, since a channel can go on nacking a healthy quorum queue after its leader moved
     * (docs/decisions/015-new-channel-after-nacks.md).
     */
    private int nacksWithoutAck;

    static final int NACKS_BEFORE_NEW_CHANNEL = 3;
    private volatile boolean freshChannel;
    private volatile long lastAdvanceNanos;
    private long parkedSince;

    public ConfirmingPublisher(BrokerConnector connector, RelayConfig config, RelayMetrics metrics) {
        this(new BrokerSession(connector::connect, connector.endpoint()), config, metrics);
    }

    ConfirmingPublisher(BrokerSession session, RelayConfig config, RelayMetrics metrics) {
        this.session = session;
        this.config = config;
        this.metrics = metrics;
    }

    /**
     * Appends {@code messages} to the stream and publishes them, blocking while the confirm
     * window is full (or the broker away). Returns the position of the last message of the
     * stream; {@link #confirmedThrough()} reaches it once RabbitMQ took everything up to it.
     *
     * @param commitMillis when each message's row was committed (for the latency metric), or {@code null}
     * @throws InterruptedException when the thread is interrupted or a stop's deadline passed
     */
    public long publish(List<OutgoingMessage> messages, long[] commitMillis) throws InterruptedException {
        publishing.lockInterruptibly();
        try {
            synchronized (ledger) {
                for (int i = 0; i < messages.size(); i++) {
                    ledger.add(messages.get(i), commitMillis == null ? 0 : commitMillis[i]);
                }
            }
            pump(more -> !more);
            synchronized (ledger) {
                return ledger.lastPosition();
            }
        } finally {
            publishing.unlock();
        }
    }

    /** Publishes {@code batch} and blocks until all of it (and everything before) is confirmed. */
    public void publishAll(List<OutgoingMessage> batch) throws InterruptedException {
        long last = publish(batch, null);
        awaitConfirmedThrough(last);
    }

    /** Blocks until every message up to {@code position} is confirmed, publishing parked ones again as they come due. */
    public void awaitConfirmedThrough(long position) throws InterruptedException {
        publishing.lockInterruptibly();
        try {
            pump(more -> ledger.isConfirmedThrough(position));
        } finally {
            publishing.unlock();
        }
    }

    /**
     * Publishes what has come due (parked messages whose backoff is over) and takes stock of
     * confirms and timeouts, without waiting; skipped while another thread publishes. For a
     * timer, so parked messages move on while no event arrives.
     */
    public void flush() throws InterruptedException {
        if (!publishing.tryLock()) {
            return;
        }
        try {
            if (session.isConnected()) {
                pump(more -> true);
            }
        } finally {
            publishing.unlock();
        }
    }

    /** The highest position at and below which every message is confirmed (-1: none yet). */
    public long confirmedThrough() {
        synchronized (ledger) {
            return ledger.confirmedThrough();
        }
    }

    /**
     * Blocks until {@link #confirmedThrough()} differs from {@code seen}, a parked message is
     * due, or a while (10 s) passed; returns the confirmed position then. For a thread that
     * marks positions between batches without polling an idle stream.
     */
    public long awaitNews(long seen) throws InterruptedException {
        synchronized (ledger) {
            long deadline = System.currentTimeMillis() + 10_000;
            while (ledger.confirmedThrough() == seen) {
                long now = System.currentTimeMillis();
                long until = Math.min(deadline, ledger.nextDueMillis());
                if (until <= now) {
                    break;
                }
                ledger.wait(until - now);
            }
            return ledger.confirmedThrough();
        }
    }

    /** When {@link #confirmedThrough()} last moved on ({@link System#nanoTime()}): the broker's time for a batch's metric. */
    public long confirmedAtNanos() {
        return lastAdvanceNanos;
    }

    /** Messages not yet out: parked after a nack, held back behind one of their routing key, or not yet sent. */
    public int waiting() {
        synchronized (ledger) {
            return ledger.waiting();
        }
    }

    /** Parked messages by exchange, for a log line. */
    public String describeParked() {
        synchronized (ledger) {
            return ledger.describeParked();
        }
    }

    /**
     * Forgets every message not confirmed, because the stream that published them ended (they
     * are read from the WAL and published again): nothing of it may linger in the gauges.
     */
    public void abandonInFlight() {
        synchronized (ledger) {
            ledger.clear();
            metrics.unconfirmed().set(0);
            metrics.parked().set(0);
        }
    }

    /** Opens the connection now if it is closed; for a timer, so readiness recovers while idle. */
    public void reconnectIfIdle() {
        if (!publishing.tryLock()) {
            return;
        }
        try {
            ensureOpen();
        } catch (EnvironmentException permanent) {
            // The next publish fails the stream with it; here, only say so.
            metrics.brokerConnected(false);
            LOG.error("{}", permanent.getMessage());
            session.closeQuietly();
        } catch (IOException | RuntimeException e) {
            connectionLost(e);
        } finally {
            publishing.unlock();
        }
    }

    /** Gives what is in flight until {@code timeoutMillis} to be confirmed; then every wait here fails. */
    public void stopWithin(long timeoutMillis) {
        stopDeadline = System.currentTimeMillis() + timeoutMillis;
        synchronized (ledger) {
            ledger.notifyAll();
        }
    }

    /**
     * Publishes until nothing that can go out is unconfirmed: what remains is parked or held
     * back behind a parked message. For a clean stop.
     */
    public void drain() throws InterruptedException {
        publishing.lockInterruptibly();
        try {
            pump(more -> !more && ledger.outstanding() == 0);
        } finally {
            publishing.unlock();
        }
    }

    /**
     * Publishes until at most {@code max} messages wait to go out (parked, held back or unsent):
     * the stream waits here once too many are parked.
     */
    public void awaitWaitingAtMost(int max) throws InterruptedException {
        publishing.lockInterruptibly();
        try {
            pump(more -> ledger.waiting() <= max);
        } finally {
            publishing.unlock();
        }
    }

    /** When {@link #pump} may return: tested under the ledger's lock after each round; {@code more}: something could go out now but for the window. */
    private interface Goal {
        boolean reached(boolean more);
    }

    /**
     * The loop: send what may go, then wait for confirms, a closed channel, a backoff's end or
     * a confirm timeout, until {@code goal} is reached.
     */
    private void pump(Goal goal) throws InterruptedException {
        int attempt = 0;
        while (true) {
            checkStop();
            Channel ch;
            if (freshChannel) {
                freshChannel = false;
                LOG.info(
                        "RabbitMQ nacked {} messages in a row without an ack; publishing on a new channel (a quorum"
                                + " queue's leader may have moved)",
                        NACKS_BEFORE_NEW_CHANNEL);
                synchronized (ledger) {
                    loseChannel(channelNumber); // the next round opens the next channel; the old one is aborted
                }
            }
            try {
                ch = ensureOpen();
                if (redeclare) {
                    // unrouted or DLX returned a copy: someone deleted them; declare everything again before going on.
                    redeclare = false;
                    session.forgetDeclarations();
                    session.open(channelNumber, listener);
                }
            } catch (EnvironmentException permanent) {
                throw permanent;
            } catch (IOException | RuntimeException e) {
                connectionLost(e);
                pause(backoffMillis(attempt++));
                continue;
            }
            long number;
            List<Entry> out;
            synchronized (ledger) {
                number = ledger.channel();
                if (number != channelNumber) {
                    continue; // lost since ensureOpen: open the next one
                }
                if (confirmsTimedOut()) {
                    continue;
                }
                int room = (probing() ? 1 : config.confirmWindow()) - ledger.outstanding();
                long byteRoom = config.confirmWindowBytes() - ledger.outstandingBytes();
                out = room > 0 ? ledger.sendable(System.currentTimeMillis(), room, byteRoom) : List.of();
            }
            if (!out.isEmpty() && !send(ch, number, out)) {
                pause(backoffMillis(attempt++));
                continue;
            }
            attempt = 0;
            synchronized (ledger) {
                updateGauges();
                boolean more = !ledger.sendable(System.currentTimeMillis(), 1).isEmpty();
                if (goal.reached(more)) {
                    return;
                }
                if (ledger.channel() == number) {
                    ledger.wait(waitMillis(more));
                }
            }
        }
    }

    /** How long the loop may sleep: until a confirm or close wakes it, the next backoff ends, or the oldest confirm is due. */
    private long waitMillis(boolean windowFull) {
        long now = System.currentTimeMillis();
        long wait = windowFull ? 1000 : Math.max(1, Math.min(1000, ledger.nextDueMillis() - now));
        Entry oldest = ledger.oldestOutstanding();
        if (oldest != null) {
            long confirmDue = TimeUnit.NANOSECONDS.toMillis(oldest.sentAtNanos - System.nanoTime())
                    + config.confirmTimeout().toMillis();
            wait = Math.min(wait, Math.max(1, confirmDue));
        }
        return Math.max(1, Math.min(wait, stopDeadline - now));
    }

    /** Under the ledger's lock: confirms overdue make the channel suspect; its messages go again on a new one. */
    private boolean confirmsTimedOut() {
        Entry oldest = ledger.oldestOutstanding();
        if (oldest == null
                || System.nanoTime() - oldest.sentAtNanos
                        < config.confirmTimeout().toNanos()) {
            return false;
        }
        LOG.warn(
                "{} confirms did not arrive within {} ms; publishing those messages again on a new channel",
                ledger.outstanding(),
                config.confirmTimeout().toMillis());
        // Confirms are bound to their channel, so a late one cannot be taken for a new channel's message.
        loseChannel(channelNumber);
        session.abortChannel();
        return true;
    }

    private boolean probing() {
        return probeThrough >= 0 && !ledger.isConfirmedThrough(probeThrough);
    }

    /**
     * Publishes {@code out} on {@code ch}: each screened (and replaced by its relay_error copy
     * where it can never go), all registered under one lock with the consecutive sequence
     * numbers the channel will give them, then sent. {@code false} when the channel failed
     * (the ledger knows: its unconfirmed messages, those of this round included, wait again).
     */
    private boolean send(Channel ch, long number, List<Entry> out) {
        List<Outgoing> messages = new ArrayList<>(out.size());
        for (Entry e : out) {
            AMQP.BasicProperties props = WireFormat.properties(e.message, config.appId());
            if (e.kind == Kind.EVENT) {
                String refused;
                try {
                    refused = screen(e.message, props);
                } catch (IOException declareFailed) {
                    connectionLost(declareFailed);
                    return false;
                }
                if (refused != null) {
                    relayError(e, refused);
                }
            }
            messages.add(outgoing(e, props));
        }
        synchronized (ledger) {
            if (ledger.channel() != number) {
                return false;
            }
            // One publishing thread per channel: its next sequence numbers are these, in this order.
            long sequence = ch.getNextPublishSeqNo();
            long now = System.nanoTime();
            for (Entry e : out) {
                ledger.sent(e, sequence++, now);
            }
        }
        for (int i = 0; i < out.size(); i++) {
            Outgoing m = messages.get(i);
            try {
                ch.basicPublish(m.exchange, m.routingKey, true, m.props, m.body);
            } catch (IOException | AlreadyClosedException closed) {
                synchronized (ledger) {
                    loseChannel(number);
                }
                LOG.warn(
                        "Publishing channel failed ({}); its unconfirmed messages are published again",
                        BrokerErrors.describe(closed));
                return false;
            } catch (RuntimeException refused) {
                clientRefused(out.get(i), number, refused);
                return false;
            }
        }
        return true;
    }

    /**
     * The client refused one message after counting its sequence number: the channel's
     * numbering no longer matches the broker's, so the channel goes, and the message with it.
     */
    private void clientRefused(Entry e, long number, RuntimeException refused) {
        synchronized (ledger) {
            if (e.kind == Kind.RELAY_ERROR && e.minimal) {
                // Cannot happen (the minimal copy is a few short headers); were it to, stop loudly rather than loop.
                throw new IllegalStateException(
                        "the AMQP client refused even the minimal relay_error copy of " + e.message.describe() + ": "
                                + refused.getMessage(),
                        refused);
            }
            if (e.kind == Kind.RELAY_ERROR) {
                e.minimal = true;
            } else {
                relayError(e, "the AMQP client refused it: " + refused.getMessage());
            }
            loseChannel(number);
        }
        session.abortChannel();
    }

    /** Why {@code m} can never be published as it is, or {@code null}; declares its exchange on the way. */
    private String screen(OutgoingMessage m, AMQP.BasicProperties props) throws IOException {
        int length = m.body().length;
        if (length == 0 && m.headers().containsKey(Headers.BODY_OMITTED_BYTES)) {
            return "a column of " + m.headers().get(Headers.BODY_OMITTED_BYTES)
                    + " bytes, more than the 16 MiB the relay"
                    + " reads (a row written before the constraint payload_at_most_16_mib, or past it dropped)";
        }
        if (length > config.maxMessageBytes()) {
            return "body of " + length + " bytes is larger than " + Setting.MAX_MESSAGE_BYTES.variable() + "="
                    + config.maxMessageBytes();
        }
        if (length > brokerMaxBytes) {
            return "body of " + length + " bytes is larger than the broker's max_message_size (" + brokerMaxBytes + ")";
        }
        String headers = AmqpLimits.refusal(props, frameMax);
        if (headers != null) {
            return headers;
        }
        return session.declareExchange(m.exchange());
    }

    private void relayError(Entry e, String error) {
        LOG.error(
                "Cannot publish {}: {}. Sending it to {} with reason {}; the stream goes on.",
                e.message.describe(),
                error,
                Topology.DLX,
                RELAY_ERROR);
        metrics.relayError(RELAY_ERROR);
        synchronized (ledger) {
            ledger.relayError(e, error);
        }
    }

    private record Outgoing(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {}

    /** The message as it goes out for the entry's kind: the event, its copy for unrouted, or its relay_error copy. */
    private Outgoing outgoing(Entry e, AMQP.BasicProperties props) {
        OutgoingMessage m = e.message;
        return switch (e.kind) {
            case EVENT -> new Outgoing(m.exchange(), m.routingKey(), props, m.body());
            case UNROUTED ->
                new Outgoing(
                        Topology.UNROUTED,
                        m.routingKey(),
                        withHeaders(
                                props,
                                Map.of(
                                        Headers.ORIGINAL_EXCHANGE,
                                        m.exchange(),
                                        Headers.ORIGINAL_ROUTING_KEY,
                                        m.routingKey())),
                        m.body());
            case RELAY_ERROR -> relayErrorCopy(e, props);
        };
    }

    private Outgoing relayErrorCopy(Entry e, AMQP.BasicProperties props) {
        OutgoingMessage m = e.message;
        Map<String, Object> headers = AmqpLimits.relayErrorHeaders(
                e.minimal ? props.builder().headers(Map.of()).build() : props,
                e.error,
                m.exchange(),
                m.routingKey(),
                frameMax);
        byte[] body = m.body();
        if (e.minimal || body.length > Math.min(config.maxMessageBytes(), brokerMaxBytes)) {
            headers.put(Headers.BODY_OMITTED_BYTES, Integer.toString(body.length));
            body = new byte[0];
        }
        AMQP.BasicProperties copy = props.builder()
                .messageId(AmqpLimits.shortString(props.getMessageId()))
                .headers(headers)
                .build();
        return new Outgoing(Topology.DLX, AmqpLimits.copyRoutingKey(m.routingKey()), copy, body);
    }

    private static AMQP.BasicProperties withHeaders(AMQP.BasicProperties props, Map<String, Object> extra) {
        Map<String, Object> headers = new HashMap<>(props.getHeaders());
        headers.putAll(extra);
        return props.builder().headers(headers).build();
    }

    /** What the publishing channel reports, applied to the ledger on the connection's thread. */
    private final class ChannelEvents implements BrokerSession.Listener {

        @Override
        public void confirmed(long number, long sequence, boolean multiple, boolean ack) {
            long now = System.currentTimeMillis();
            PublishLedger.Settled settled;
            synchronized (ledger) {
                long before = ledger.confirmedThrough();
                settled = ledger.confirm(number, sequence, multiple, ack, now, ConfirmingPublisher::backoffMillis);
                if (ledger.confirmedThrough() != before) {
                    lastAdvanceNanos = System.nanoTime();
                }
                if (!settled.confirmed().isEmpty()) {
                    channelErrorsWithoutProgress = 0;
                    nacksWithoutAck = 0;
                }
                if (!settled.nacked().isEmpty()) {
                    parked(settled.nacked());
                    nacksWithoutAck += settled.nacked().size();
                    if (nacksWithoutAck >= NACKS_BEFORE_NEW_CHANNEL) {
                        nacksWithoutAck = 0;
                        freshChannel = true;
                    }
                }
                if (!settled.returnedCopies().isEmpty()) {
                    redeclare = true;
                }
                if (parkedSince > 0 && ledger.parked() == 0) {
                    LOG.info("All parked messages are confirmed, {} ms after the first nack", now - parkedSince);
                    parkedSince = 0;
                }
                updateGauges();
                ledger.notifyAll();
            }
            // Outside the lock, which the publishing thread takes for every round it sends.
            for (Entry e : settled.confirmed()) {
                if (e.kind == Kind.EVENT) {
                    metrics.published(e.message.exchange(), 1);
                    metrics.confirmedAfterCommit(e.commitMillis, now);
                }
            }
            for (Entry e : settled.unrouted()) {
                LOG.info(
                        "{} had no route and no alternate exchange; sending it to '{}'",
                        e.message.describe(),
                        Topology.UNROUTED);
            }
            for (Entry e : settled.returnedCopies()) {
                LOG.warn(
                        "{} was returned by '{}' too; declaring the unrouted and dead-letter queues again and retrying",
                        e.message.describe(),
                        e.kind == Kind.UNROUTED ? Topology.UNROUTED : Topology.DLX);
            }
        }

        @Override
        public void returned(long number, String messageId) {
            synchronized (ledger) {
                ledger.returned(number, messageId);
            }
        }

        @Override
        public void closed(long number, ShutdownSignalException cause) {
            if (cause.isHardError()) {
                metrics.brokerConnected(false);
            }
            synchronized (ledger) {
                List<Entry> lost = loseChannel(number);
                if (!cause.isInitiatedByApplication()) {
                    channelClosedByBroker(cause, lost);
                }
                updateGauges();
                ledger.notifyAll();
            }
        }
    }

    /** Under the ledger's lock: a channel the broker closed; finds the message that closes it every time. */
    private void channelClosedByBroker(ShutdownSignalException cause, List<Entry> lost) {
        String reason = BrokerErrors.describe(cause);
        Matcher size = MAX_SIZE.matcher(reason);
        if (size.find()) {
            brokerMaxBytes = Long.parseLong(size.group(1));
            LOG.warn(
                    "RabbitMQ refuses messages over {} bytes (its max_message_size); larger events go to {} as {}",
                    brokerMaxBytes,
                    Topology.DLX,
                    RELAY_ERROR);
        }
        if (cause.isHardError() || lost.isEmpty()) {
            return;
        }
        LOG.warn(
                "RabbitMQ closed the publishing channel ({}); {} unconfirmed messages are published again",
                reason,
                lost.size());
        if (reason.contains("NOT_FOUND")) {
            redeclare = true; // an exchange deleted behind our back: declare again and retry
            return;
        }
        if (probing() && lost.size() == 1) {
            Entry culprit = lost.get(0);
            if (culprit.kind == Kind.EVENT) {
                relayError(culprit, "RabbitMQ closed the channel when it was published: " + reason);
            } else {
                culprit.minimal = true;
            }
            return;
        }
        if (++channelErrorsWithoutProgress >= 2) {
            probeThrough = ledger.lastPosition();
            LOG.warn(
                    "RabbitMQ closed the channel {} times without a confirm; publishing one message at a time"
                            + " to find the one it refuses",
                    channelErrorsWithoutProgress);
        }
    }

    private void parked(List<Entry> nacked) {
        if (parkedSince == 0) {
            parkedSince = System.currentTimeMillis();
            LOG.warn(
                    "RabbitMQ nacked {} messages for {} (a queue may be full: x-max-length with overflow=reject-publish; or a"
                            + " quorum queue was unavailable for a moment);"
                            + " they are published again with backoff, later messages of their routing keys wait behind them,"
                            + " the others flow, and stored positions wait for them",
                    nacked.size(),
                    ledger.describeParked());
        }
        metrics.republished(nacked.size());
    }

    /** Under the ledger's lock: channel {@code number} is gone, its unconfirmed messages go again; counted. */
    private List<Entry> loseChannel(long number) {
        List<Entry> again = ledger.channelLost(number);
        if (!again.isEmpty()) {
            metrics.republished(again.size());
        }
        return again;
    }

    private void updateGauges() {
        metrics.unconfirmed().set(ledger.outstanding());
        metrics.parked().set(ledger.parked());
    }

    private Channel ensureOpen() throws IOException {
        long number;
        synchronized (ledger) {
            number = ledger.channel();
            if (channel != null && channelNumber == number && channel.isOpen()) {
                return channel;
            }
            if (channelNumber == number) {
                // Closed, and its listener may not have run yet: its messages go again, on the next channel.
                loseChannel(number);
                number = ledger.channel();
            }
        }
        channel = session.open(number, listener);
        channelNumber = number;
        frameMax = channel.getConnection().getFrameMax();
        metrics.brokerConnected(true);
        if (outageLogged || !loggedConnected) {
            LOG.info("Connected to RabbitMQ at {} (publisher confirms on)", session.endpoint());
            outageLogged = false;
            loggedConnected = true;
        }
        return channel;
    }

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
                throw new EnvironmentException(
                        "RabbitMQ at " + endpoint + " refused the relay's user: "
                                + BrokerErrors.describe(e) + ". The relay needs configure and write permission on its"
                                + " event exchanges, unrouted, DLX and dead_letters, and read permission on unrouted, DLX and"
                                + " dead_letters (see docs/operating.md, RabbitMQ permissions).",
                        e);
            }
            throw e;
        }
    }

    private void connectionLost(Exception e) {
        if (e instanceof EnvironmentException permanent) {
            throw permanent;
        }
        metrics.brokerConnected(false);
        int unconfirmed;
        synchronized (ledger) {
            unconfirmed = ledger.outstanding();
            loseChannel(channelNumber);
        }
        if (!outageLogged) {
            LOG.warn(
                    "RabbitMQ at {} is unreachable or closed the connection ({}); reconnecting with backoff,"
                            + " {} unconfirmed messages will be published again",
                    session.endpoint(),
                    BrokerErrors.describe(e),
                    unconfirmed);
            outageLogged = true;
        } else {
            LOG.debug("Still cannot reach RabbitMQ: {}", BrokerErrors.describe(e));
        }
        channel = null;
        session.closeQuietly();
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

    private void checkStop() throws InterruptedException {
        if (Thread.currentThread().isInterrupted() || System.currentTimeMillis() > stopDeadline) {
            throw new InterruptedException(
                    "publisher stopping: messages not confirmed in time are published again after restart");
        }
    }

    @Override
    public void close() {
        publishing.lock();
        try {
            session.close();
            channel = null;
            metrics.brokerConnected(false);
        } finally {
            publishing.unlock();
        }
    }
}
