/* Loads libpaytrim_auth.so (JNI glue included) from plain C, with no JVM in
 * the process, and calls the C ABI: proves the JNI exports do not need libjvm. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s /path/to/libpaytrim_auth.so\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    uint32_t (*abi)(void) = (uint32_t (*)(void))dlsym(lib, "paytrim_auth_abi_version");
    const char *(*version)(void) = (const char *(*)(void))dlsym(lib, "paytrim_auth_version");
    void *jni = dlsym(lib, "Java_com_paytrim_auth_NativeBridge_getToken");
    if (!abi || !version) {
        fprintf(stderr, "missing C ABI symbols\n");
        return 1;
    }
    printf("abi=%u version=%s jni=%s\n", abi(), version(), jni ? "present" : "absent");
    dlclose(lib);
    return 0;
}
