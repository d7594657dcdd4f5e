package io.debezium.connector.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.debezium.connector.postgresql.connection.Lsn;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The patched source.sequence (SourceInfo's header) is the JSON Debezium wrote with Jackson. */
class SourceInfoPatchTest {

    @ParameterizedTest
    @ValueSource(longs = {0L, 1L, 23_456_789L, Long.MAX_VALUE, -1L})
    void sequenceIsTheJsonJacksonWroteForBothLsnsOrNull(long value) throws Exception {
        ObjectMapper jackson = new ObjectMapper();
        Lsn lsn = Lsn.valueOf(value);
        for (Lsn[] pair : new Lsn[][] {{lsn, lsn}, {null, lsn}, {lsn, null}, {null, null}}) {
            String expected = jackson.writeValueAsString(Arrays.asList(text(pair[0]), text(pair[1])));
            assertThat("[" + SourceInfo.jsonString(pair[0]) + "," + SourceInfo.jsonString(pair[1]) + "]").isEqualTo(expected);
        }
    }

    private static String text(Lsn lsn) {
        return lsn == null ? null : Long.toString(lsn.asLong());
    }
}
