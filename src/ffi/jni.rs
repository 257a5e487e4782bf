//! JNI glue for the Java wrapper (bindings/java). Filled in by the Java wrapper work.
