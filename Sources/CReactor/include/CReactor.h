// Thin C shim for the Reactor target: exposes the Linux headers that Swift's Glibc module does not
// (epoll, eventfd, errqueue) and wraps the few GNU-only functions. No logic lives here.
// Note: _GNU_SOURCE must NOT be defined in this header (it would make struct definitions disagree
// with the SwiftGlibc module); GNU functions are wrapped in CReactor.c instead.
#ifndef CREACTOR_H
#define CREACTOR_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/errqueue.h>
#include <pthread.h>
#include <unistd.h>
#include <spawn.h>

/// pipe2(2).
int creactor_pipe2(int fds[2], int flags);
/// pthread_setname_np(3).
int creactor_pthread_setname(pthread_t thread, const char *name);
/// pthread_getname_np(3).
int creactor_pthread_getname(pthread_t thread, char *name, size_t length);

/// Same layout as glibc's `struct mmsghdr` (which is only visible with _GNU_SOURCE).
struct creactor_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
/// recvmmsg(2) without timeout.
int creactor_recvmmsg(int fd, struct creactor_mmsghdr *vector, unsigned int length, int flags);

/// accept4(2) (GNU).
int creactor_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// malloc_trim(3): returns the free pages of every malloc arena to the kernel; 1 if any were released.
int creactor_malloc_trim(size_t pad);

/// mallopt(3) parameters (the values of glibc's M_* macros, checked against <malloc.h> in CReactor.c).
#define CREACTOR_M_TRIM_THRESHOLD (-1)
#define CREACTOR_M_TOP_PAD (-2)
#define CREACTOR_M_MMAP_THRESHOLD (-3)
/// mallopt(3): sets one malloc parameter; 1 on success, 0 on error.
int creactor_mallopt(int param, int value);

/// posix_spawn_file_actions_addclosefrom_np(3) (glibc 2.34+): the child closes every descriptor >= `from`.
int creactor_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
