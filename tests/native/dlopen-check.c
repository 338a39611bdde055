/* dlopen(argv[1]) with RTLD_NOW, then optionally call the int(void) function argv[2].
   Exit 0 and print "<name>=<value>" on success; exit 1 and print dlerror() if loading fails. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: dlopen-check LIBRARY [FUNCTION]\n"); return 64; }
    void *handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!handle) { printf("dlopen failed: %s\n", dlerror()); return 1; }
    if (argc > 2) {
        int (*function)(void) = (int (*)(void))dlsym(handle, argv[2]);
        if (!function) { printf("dlsym failed: %s\n", dlerror()); return 2; }
        printf("%s=%d\n", argv[2], function());
    }
    return 0;
}
