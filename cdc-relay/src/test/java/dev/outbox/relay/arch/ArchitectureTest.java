package dev.outbox.relay.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What depends on what: the protocol on nothing of the project, the writer and the SDK on the
 * protocol only, the SDK's internals used by the SDK and the relay alone; inside the relay,
 * packages depend downwards only, and Debezium and Kafka stay inside the engine.
 */
class ArchitectureTest {

    private static JavaClasses relay;
    private static JavaClasses project;

    @BeforeAll
    static void importClasses() {
        ClassFileImporter importer =
                new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS);
        relay = importer.importPackages("dev.outbox.relay");
        project = importer.importPackages("dev.outbox.protocol", "dev.outbox.db", "dev.outbox.sdk", "dev.outbox.relay");
    }

    @Test
    void theProtocolDependsOnNothingElseOfTheProject() {
        noClasses()
                .that()
                .resideInAPackage("dev.outbox.protocol..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("dev.outbox.db..", "dev.outbox.sdk..", "dev.outbox.relay..")
                .check(project);
    }

    @Test
    void theWriterAndTheSdkKnowEachOtherOnlyThroughTheProtocol() {
        noClasses()
                .that()
                .resideInAPackage("dev.outbox.db..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("dev.outbox.sdk..", "dev.outbox.relay..")
                .check(project);
        noClasses()
                .that()
                .resideInAPackage("dev.outbox.sdk..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("dev.outbox.db..", "dev.outbox.relay..")
                .because("a consumer's dependency tree has no Flyway: the SDK does not depend on the writer's module")
                .check(project);
    }

    @Test
    void sdkInternalsAreUsedOnlyByTheSdkAndTheRelay() {
        noClasses()
                .that()
                .resideOutsideOfPackages("dev.outbox.sdk..", "dev.outbox.relay..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("dev.outbox.sdk.internal..")
                .check(project);
    }

    @Test
    void packagesDependOnlyOnTheLayersBelowThem() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("cli")
                .definedBy("dev.outbox.relay.cli..")
                .layer("relay")
                .definedBy("dev.outbox.relay")
                .layer("engine")
                .definedBy("dev.outbox.relay.engine..")
                .layer("console")
                .definedBy("dev.outbox.relay.console..")
                .layer("http")
                .definedBy("dev.outbox.relay.http..")
                .layer("publish")
                .definedBy("dev.outbox.relay.publish..")
                .layer("metrics")
                .definedBy("dev.outbox.relay.metrics..")
                .layer("config")
                .definedBy("dev.outbox.relay.config..")
                .whereLayer("cli")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("relay")
                .mayOnlyBeAccessedByLayers("cli")
                .whereLayer("engine")
                .mayOnlyBeAccessedByLayers("relay", "cli")
                .whereLayer("console")
                .mayOnlyBeAccessedByLayers("relay", "cli")
                .whereLayer("http")
                .mayOnlyBeAccessedByLayers("relay", "cli")
                .whereLayer("publish")
                .mayOnlyBeAccessedByLayers("engine", "relay", "cli")
                .whereLayer("metrics")
                .mayOnlyBeAccessedByLayers("publish", "engine", "http", "relay", "cli")
                .check(relay);
    }

    @Test
    void debeziumAndKafkaTypesAreUsedOnlyInTheEngine() {
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.outbox.relay.engine..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.debezium..", "org.apache.kafka..")
                .because(
                        "the engine package is where Debezium is wrapped; the rest of the relay sees events and positions")
                .check(relay);
    }
}
