package com.paytrim.auth;

/**
 * Receives the library's diagnostic events: cache misses, each fetch
 * attempt's start and end (duration, client-request-id), retries with reason
 * and delay, throttling, background refreshes, fork detection. Messages never
 * contain a secret or a token; tenant and client ids appear only after
 * {@link PaytrimAuthClient#setLogPii(boolean) setLogPii(true)}.
 *
 * <p>Installed process-wide (for this class loader's copy of the native
 * library) with {@link PaytrimAuthClient#setLogger(PaytrimAuthLogger, Level)}.
 * The library never waits for it: events are queued (up to
 * {@value LogDispatch#CAPACITY}) and delivered in order on one daemon thread,
 * {@code paytrim-auth-log}. If the logger falls behind, further events are
 * dropped and the next delivered event is preceded by a {@link Level#WARN}
 * saying how many. Anything the logger throws is caught and ignored.
 *
 * <pre>{@code
 * org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("paytrim-auth");
 * PaytrimAuthClient.setLogger((level, message) -> {
 *     switch (level) {
 *         case ERROR: log.error(message); break;
 *         case WARN:  log.warn(message);  break;
 *         case INFO:  log.info(message);  break;
 *         default:    log.debug(message);
 *     }
 * }, PaytrimAuthLogger.Level.INFO);
 * }</pre>
 */
public interface PaytrimAuthLogger {
    /** One event; called on the {@code paytrim-auth-log} thread. */
    void log(Level level, String message);

    /** Event levels, most severe first (the C ABI's {@code PAYTRIM_AUTH_LOG_*} values). */
    enum Level {
        /** The library cannot do what was asked. */
        ERROR(1),
        /** A fetch attempt or a background refresh failed; throttling. */
        WARN(2),
        /** A token fetched, a retry scheduled, a background refresh, a fork detected. */
        INFO(3),
        /** Cache misses; each attempt's start and end with its duration and client-request-id. */
        DEBUG(4),
        /** Everything. */
        TRACE(5);

        final int value;

        Level(int value) {
            this.value = value;
        }

        static Level of(int value) {
            for (Level l : values()) {
                if (l.value == value) {
                    return l;
                }
            }
            return TRACE;
        }
    }
}
