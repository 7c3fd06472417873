#define _GNU_SOURCE
#include <unistd.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <spawn.h>
#include <malloc.h>
#include "CReactor.h"

int creactor_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int creactor_pthread_setname(pthread_t thread, const char *name) { return pthread_setname_np(thread, name); }
int creactor_pthread_getname(pthread_t thread, char *name, size_t length) { return pthread_getname_np(thread, name, length); }

_Static_assert(sizeof(struct creactor_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");
int creactor_recvmmsg(int fd, struct creactor_mmsghdr *vector, unsigned int length, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)vector, length, flags, NULL);
}

int creactor_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int creactor_malloc_trim(size_t pad) { return malloc_trim(pad); }

_Static_assert(CREACTOR_M_TRIM_THRESHOLD == M_TRIM_THRESHOLD, "M_TRIM_THRESHOLD");
_Static_assert(CREACTOR_M_TOP_PAD == M_TOP_PAD, "M_TOP_PAD");
_Static_assert(CREACTOR_M_MMAP_THRESHOLD == M_MMAP_THRESHOLD, "M_MMAP_THRESHOLD");
int creactor_mallopt(int param, int value) { return mallopt(param, value); }

int creactor_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}
