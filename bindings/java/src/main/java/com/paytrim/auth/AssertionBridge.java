package com.paytrim.auth;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Adapts an {@link AssertionProvider} or {@link AsyncAssertionProvider} to the
 * native assertion callback (src/ffi/jni_credentials.rs): {@link #request} is
 * called on a library fetch thread and answers through the native completion
 * handle exactly once.
 */
final class AssertionBridge {
    private final AssertionProvider sync;
    private final AsyncAssertionProvider async;

    AssertionBridge(AssertionProvider sync, AsyncAssertionProvider async) {
        this.sync = sync;
        this.async = async;
    }

    /** Called by native code. Never throws: every outcome answers the completion. */
    void request(String clientId, String audience, long completion) {
        final Answer answer = new Answer(completion);
        try {
            AssertionRequest r = new AssertionRequest(clientId, audience);
            if (sync != null) {
                answer.complete(sync.getAssertion(r));
                return;
            }
            CompletionStage<String> stage = async.getAssertion(r);
            if (stage == null) {
                answer.fail("the AsyncAssertionProvider returned null instead of a CompletionStage");
                return;
            }
            stage.whenComplete((value, error) -> {
                if (error != null) {
                    answer.fail(describe(error));
                } else {
                    answer.complete(value);
                }
            });
        } catch (Throwable t) {
            answer.fail(describe(t));
        }
    }

    static String describe(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return "the provider threw " + t.getClass().getName() + (m == null ? "" : ": " + m);
    }

    /** The native completion handle, used once whatever the races. */
    private static final class Answer {
        private final AtomicLong handle;

        Answer(long handle) {
            this.handle = new AtomicLong(handle);
        }

        void complete(String assertion) {
            long h = handle.getAndSet(0);
            if (h == 0) {
                return;
            }
            if (assertion == null) {
                CredentialBridge.assertionFail(h, "the provider returned null");
            } else {
                CredentialBridge.assertionComplete(h, assertion);
            }
        }

        void fail(String message) {
            long h = handle.getAndSet(0);
            if (h != 0) {
                CredentialBridge.assertionFail(h, message);
            }
        }
    }
}
