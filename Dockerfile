# cdc-relay: multi-stage build, runs as a non-root user on a Java 17 JRE.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn/ .mvn/
COPY mvnw pom.xml ./
COPY test-support/ test-support/
COPY protocol/ protocol/
COPY db/ db/
COPY consumer-sdk/ consumer-sdk/
COPY cdc-relay/ cdc-relay/
# Maven reads every module the parent names; those not built (the benchmark, the Spring starter,
# its Boot 4 tests, the example) need only their pom.
COPY bench/pom.xml bench/
COPY outbox-spring-boot-starter/pom.xml outbox-spring-boot-starter/
COPY outbox-spring-boot-starter/boot4-it/pom.xml outbox-spring-boot-starter/boot4-it/
COPY examples/orders-service/pom.xml examples/orders-service/
RUN ./mvnw -B -q package -DskipTests -pl cdc-relay -am

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 relay && useradd --system --uid 10001 --gid relay --no-create-home relay
COPY --from=build /src/cdc-relay/target/cdc-relay.jar /app/cdc-relay.jar
USER 10001:10001
EXPOSE 8080
# An explicit heap keeps the relay inside its memory budget; the young generation is sized
# for the events queued and in flight (scripts/relay says why; the same options, so the
# image and the launcher measure alike). Given to the relay's JVM only: as JAVA_TOOL_OPTIONS
# they reached the health check's JVM too, whose -Xmx32m is below -Xms, and it never started.
ENV RELAY_JAVA_OPTS="-Xms96m -Xmx192m -Xmn64m -XX:SurvivorRatio=2 -XX:+UseSerialGC -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError"
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["java", "-Xmx32m", "-jar", "/app/cdc-relay.jar", "health"]
ENTRYPOINT ["sh", "-c", "exec java $RELAY_JAVA_OPTS -jar /app/cdc-relay.jar \"$@\"", "cdc-relay"]
CMD ["run"]
