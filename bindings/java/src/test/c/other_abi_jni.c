/* A stand-in libpaytrim_auth.so whose JNI glue reports another ABI version (99),
 * for AbiMismatchTest: the jar must refuse it with a message, not call into it.
 * No jni.h needed: jint is int and the arguments are unused. */
int Java_com_paytrim_auth_NativeBridge_abiVersion(void *env, void *cls) {
    (void)env;
    (void)cls;
    return 99;
}
