package dev.outbox.relay.publish;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The confirms of one round of publishes on one channel: which sequence numbers are still
 * outstanding, which were nacked, which messages came back as unroutable. Fed by the
 * channel's listeners (the connection's thread), read by the publishing thread.
 */
final class PublishRound {

    private final com.rabbitmq.client.Channel channel;

    private final NavigableMap<Long, Integer> outstanding = new ConcurrentSkipListMap<>();
    private final List<Integer> nacked = new ArrayList<>();
    private final Set<String> returnedMessageIds = ConcurrentHashMap.newKeySet();
    private volatile String channelFailure;

    PublishRound(com.rabbitmq.client.Channel channel) {
        this.channel = channel;
    }

    /** The channel this round was sent on: only its confirms, returns and closure count. */
    com.rabbitmq.client.Channel channel() {
        return channel;
    }

    void sent(long sequence, int index) {
        outstanding.put(sequence, index);
    }

    synchronized int confirm(long sequence, boolean multiple, boolean ack) {
        Map<Long, Integer> done = multiple ? outstanding.headMap(sequence, true) : single(sequence);
        int count = 0;
        for (Integer index : new ArrayList<>(done.values())) {
            if (!ack) {
                nacked.add(index);
            }
            count++;
        }
        done.clear();
        notifyAll();
        return count;
    }

    private Map<Long, Integer> single(long sequence) {
        return outstanding.subMap(sequence, true, sequence, true);
    }

    void returned(String messageId) {
        if (messageId != null) {
            returnedMessageIds.add(messageId);
        }
    }

    synchronized void channelClosed(String reason) {
        channelFailure = reason;
        notifyAll();
    }

    /** Waits until every sent message is confirmed, the channel closed, or {@code timeoutMillis} passed. */
    synchronized boolean awaitConfirms(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!outstanding.isEmpty() && channelFailure == null) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return outstanding.isEmpty();
    }

    int outstandingCount() {
        return outstanding.size();
    }

    /** Indexes not confirmed (outstanding) plus nacked: to be published again. */
    synchronized List<Integer> failed() {
        List<Integer> failed = new ArrayList<>(nacked);
        failed.addAll(outstanding.values());
        return failed;
    }

    /** Positions RabbitMQ answered with a nack. */
    synchronized java.util.Set<Integer> nackedPositions() {
        return new java.util.HashSet<>(nacked);
    }

    synchronized int nackedCount() {
        return nacked.size();
    }

    Set<String> returnedMessageIds() {
        return returnedMessageIds;
    }

    String channelFailure() {
        return channelFailure;
    }
}
