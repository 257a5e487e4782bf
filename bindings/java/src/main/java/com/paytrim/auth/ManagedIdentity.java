package com.paytrim.auth;

/**
 * An Azure managed identity: the system-assigned one, or a user-assigned one
 * by client id, object id or resource id. Used with
 * {@link PaytrimAuthClient#builder(ManagedIdentity)}.
 */
public final class ManagedIdentity {
    private static final ManagedIdentity SYSTEM = new ManagedIdentity("system");

    private final String spec;

    private ManagedIdentity(String spec) {
        this.spec = spec;
    }

    /** The host's system-assigned identity. */
    public static ManagedIdentity systemAssigned() {
        return SYSTEM;
    }

    /** A user-assigned identity by its client (application) id. */
    public static ManagedIdentity clientId(String clientId) {
        return new ManagedIdentity("client_id:" + require(clientId, "clientId"));
    }

    /** A user-assigned identity by its object (principal) id. */
    public static ManagedIdentity objectId(String objectId) {
        return new ManagedIdentity("object_id:" + require(objectId, "objectId"));
    }

    /** A user-assigned identity by its Azure resource id ({@code /subscriptions/.../userAssignedIdentities/NAME}). */
    public static ManagedIdentity resourceId(String resourceId) {
        return new ManagedIdentity("resource_id:" + require(resourceId, "resourceId"));
    }

    private static String require(String v, String what) {
        if (v == null || v.trim().isEmpty()) {
            throw new IllegalArgumentException(what + " is null or empty");
        }
        return v;
    }

    /** The native form: {@code system}, {@code client_id:...}, {@code object_id:...} or {@code resource_id:...}. */
    String spec() {
        return spec;
    }

    @Override
    public String toString() {
        return "ManagedIdentity{" + spec + "}";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ManagedIdentity && ((ManagedIdentity) o).spec.equals(spec);
    }

    @Override
    public int hashCode() {
        return spec.hashCode();
    }
}
