// libmongoc (Debian builds it with automatic init) runs mongoc_init() from a shared-library
// constructor, before main(). That init creates /dev/shm/mongoc-<pid> with O_EXCL for counters only
// the `mongoc-stat` tool reads. A process that dies without running its exit handlers (SIGKILL, a
// crash) leaves its file behind, and a later process that is given the same pid then prints
// "Falling back to malloc for counters" on stderr, into `tandem check` output and logs.
//
// A file named after this process's own pid cannot belong to a live process, so it is removed before
// libmongoc looks. Functions in the executable's .preinit_array run before any shared library's
// constructor. (Setting MONGOC_DISABLE_SHM here does not work: libc resets the environment pointer
// in its own constructor, after this runs.) Only getpid and unlink are called, and the path is
// written by hand, because libc's stdio is not initialised yet.
#include "CTandemStart.h"
#include <unistd.h>

static void tandem_preinit(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    (void)envp;
    static const char prefix[] = "/dev/shm/mongoc-";
    char path[sizeof(prefix) + 24];
    unsigned long pid = (unsigned long)getpid();
    char digits[24];
    int count = 0;
    do {
        digits[count++] = (char)('0' + pid % 10);
        pid /= 10;
    } while (pid != 0 && count < (int)sizeof(digits));
    int length = 0;
    for (int i = 0; prefix[i] != '\0'; i++) {
        path[length++] = prefix[i];
    }
    while (count > 0) {
        path[length++] = digits[--count];
    }
    path[length] = '\0';
    (void)unlink(path);
}

__attribute__((section(".preinit_array"), used))
static void (*const tandem_preinit_entry)(int, char **, char **) = tandem_preinit;
