package example.slow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outbox.spring.OutboxListener;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.stereotype.Component;

/** An application whose listener takes its time: for what shutdown does to a running handler. */
@SpringBootApplication
public class SlowApp {

    @Component
    public static class SlowListener {
        public static final CountDownLatch STARTED = new CountDownLatch(1);
        public static final CountDownLatch RELEASE = new CountDownLatch(1);
        public static final AtomicInteger FINISHED = new AtomicInteger();

        @OutboxListener(patterns = "${test.exchange}.slow", queue = "${test.queue}")
        public void handle(Map<String, Object> headers, JsonNode body) throws InterruptedException {
            STARTED.countDown();
            RELEASE.await();
            FINISHED.incrementAndGet();
        }
    }
}
