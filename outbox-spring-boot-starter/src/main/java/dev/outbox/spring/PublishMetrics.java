package dev.outbox.spring;

/** Where {@link OutboxPublisher} reports what it wrote and sent; Micrometer when the application has it. */
interface PublishMetrics {

    PublishMetrics NONE = new PublishMetrics() {
        @Override
        public void written(String routingKey, int events) {}

        @Override
        public void sent(String routingKey, boolean confirmed, long nanos) {}
    };

    /** {@code events} rows of {@code routingKey} committed (a rolled-back transaction counts none). */
    void written(String routingKey, int events);

    /** One message sent straight to RabbitMQ, confirmed or not, and how long it took. */
    void sent(String routingKey, boolean confirmed, long nanos);
}
