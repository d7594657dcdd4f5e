package dev.outbox.relay.console;

/**
 * The relay as the console's overview shows it.
 *
 * @param state {@code streaming}, {@code standby}, {@code stopping} or {@code not streaming}
 * @param detail why it is not streaming, or {@code null}
 * @param slotLagBytes WAL the slot holds back, -1 until measured
 * @param publishedPerSecond events confirmed per second over the last seconds
 */
public record RelayStatus(
        String state, String detail, long slotLagBytes, double publishedPerSecond, int unconfirmed, int parked) {

    /** From the relay's readiness: {@code null} when ready, else why not. */
    public static RelayStatus of(
            String notReadyReason, long slotLagBytes, double publishedPerSecond, int unconfirmed, int parked) {
        String state;
        if (notReadyReason == null) {
            state = "streaming";
        } else if (notReadyReason.startsWith("standby")) {
            state = "standby";
        } else if (notReadyReason.startsWith("stopping")) {
            state = "stopping";
        } else {
            state = "not streaming";
        }
        return new RelayStatus(state, notReadyReason, slotLagBytes, publishedPerSecond, unconfirmed, parked);
    }
}
