package org.apache.kafka.connect.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.Test;

/** The patched validation (ConnectSchema's header) accepts what Kafka's accepts and refuses the rest with Kafka's words. */
class ConnectSchemaPatchTest {

    private static final Schema ROW = SchemaBuilder.struct().name("row")
            .field("id", Schema.INT64_SCHEMA)
            .field("note", Schema.OPTIONAL_STRING_SCHEMA)
            .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build())
            .build();
    private static final Schema ENVELOPE = SchemaBuilder.struct().name("envelope")
            .field("after", ROW)
            .field("at", Timestamp.SCHEMA)
            .build();

    @Test
    void validValuesOfEveryKindAreAccepted() {
        Struct row = new Struct(ROW).put("id", 7L).put("note", null).put("tags", List.of("a", "b"));
        Struct envelope = new Struct(ENVELOPE).put("after", row).put("at", new java.util.Date(0));
        envelope.validate();
        assertThat(envelope.getStruct("after").getInt64("id")).isEqualTo(7L);
    }

    @Test
    void aValueOfTheWrongClassIsRefusedNamingTheField() {
        assertThatThrownBy(() -> new Struct(ROW).put("id", "seven"))
                .isInstanceOf(DataException.class)
                .hasMessage("Invalid Java object for schema with type INT64: class java.lang.String for field: \"id\"");
    }

    @Test
    void nullForARequiredFieldIsRefusedNamingTheField() {
        assertThatThrownBy(() -> new Struct(ROW).put("id", null))
                .isInstanceOf(DataException.class)
                .hasMessage("Invalid value: null used for required field: \"id\", schema type: INT64");
    }

    @Test
    void aStructOfAnotherSchemaIsRefused() {
        Schema other = SchemaBuilder.struct().name("row").field("id", Schema.INT64_SCHEMA).build();
        assertThatThrownBy(() -> new Struct(ENVELOPE).put("after", new Struct(other).put("id", 1L)))
                .isInstanceOf(DataException.class)
                .hasMessage("Struct schemas do not match.");
    }

    @Test
    void aBadArrayElementIsRefusedNamingTheArray() {
        assertThatThrownBy(() -> new Struct(ROW).put("tags", List.of("a", 2)))
                .isInstanceOf(DataException.class)
                .hasMessageContaining("for element of array field: \"tags\"");
    }

    @Test
    void aLogicalTypeChecksItsOwnClass() {
        assertThatThrownBy(() -> new Struct(ENVELOPE).put("at", 0L))
                .isInstanceOf(DataException.class)
                .hasMessage("Invalid Java object for schema \"org.apache.kafka.connect.data.Timestamp\" with type INT64:"
                        + " class java.lang.Long for field: \"at\"");
    }
}
