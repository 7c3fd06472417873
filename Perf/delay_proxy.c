/* A TCP proxy that delays every server answer by a fixed time: gives a fast local backend (nginx,
 * PostgreSQL, slapd, MariaDB, the nx-27017 MongoDB-wire server) the latency of a remote one, for the
 * async-mode benchmarks. The C twin of Perf/delay_proxy.py (same arguments, same behaviour): the Python
 * event loop spends tens of microseconds of CPU per forwarded chunk, on the same two cores as Tandem and
 * SIPp, and only in the scenarios that use a backend, which lowered every backend's fraction against the
 * plain relay. This one spends a few.
 *
 * Build: cc -O2 -o delay_proxy Perf/delay_proxy.c   (the matrix harness builds it, see tandem_perf/backends.py)
 * Usage: delay_proxy LISTEN_PORT TARGET_PORT DELAY_MS   (127.0.0.1 only; DELAY_MS may have a fraction)
 *
 * Behaviour (as the Python one):
 *   - every accepted connection gets its own connection to 127.0.0.1:TARGET_PORT; when that connect fails
 *     the client's connection is closed;
 *   - client -> server bytes are forwarded at once; server -> client bytes are forwarded DELAY_MS after they
 *     were read, chunk by chunk, in order. Chunks are scheduled, not slept on, so a connection carrying
 *     several outstanding requests (LDAP, HTTP/2, pipelined PostgreSQL) keeps its concurrency;
 *   - end of stream or an error from the client closes the server connection (after the bytes already
 *     forwarded are written); from the server, the client connection is closed DELAY_MS later (after the
 *     delayed bytes).
 *
 * One epoll loop, one thread. The delay is the same for every chunk, so the chunks due form one FIFO
 * (across connections); the loop sleeps until the first one is due (epoll_pwait2, nanosecond timeout),
 * then writes every chunk whose time has come. A chunk whose connection has gone is dropped (slots carry a
 * generation). A write that would block keeps the rest in the connection's output buffer (EPOLLOUT) and
 * stops reading from the other side until it drained: memory stays bounded by the 1 MiB per direction
 * the delayed FIFO may hold on top of the socket buffers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE 65536
/* Bytes of one direction waiting in the delayed FIFO or an output buffer before its source stops being
 * read (it is read again once they drained). */
#define HIGH_WATER (1u << 20)

/* One forwarded chunk, due at `at` (ns, CLOCK_MONOTONIC), for side `side` of the pair in slot `slot`
 * (generation `gen`). len 0: close that side once its output is written. */
struct chunk {
    struct chunk *next;
    uint64_t at;
    uint32_t slot, gen;
    uint8_t side;
    size_t len;
    uint8_t data[];
};

/* One end of a pair: its socket and the bytes read from the other end not yet written to it. */
struct end {
    int fd;
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    size_t queued;         /* bytes for this end in the delayed FIFO */
    int close_after_flush; /* close the pair once `out` is written */
    int reading;           /* reading this end's fd (not paused) */
    int eof;               /* this end's fd gave end of stream or an error */
    uint32_t events;       /* epoll events registered */
};

/* A client connection and its server connection: ends[0] the client, ends[1] the server. */
struct pair {
    uint32_t gen;
    int used;
    int connecting; /* the server connect has not completed */
    struct end ends[2];
};

static struct pair *pairs;
static uint32_t npairs, *free_slots, nfree;
static struct chunk *fifo_head, *fifo_tail;
static int ep, listen_fd, target_port;
static uint64_t delay_ns;
static uint8_t readbuf[READ_SIZE];

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t key(uint32_t slot, int side) { return ((uint64_t)slot << 1) | (uint64_t)side; }

static void watch(uint32_t slot, int side, uint32_t events) {
    struct end *e = &pairs[slot].ends[side];
    if (e->fd < 0 || e->eof || e->events == events) return;
    struct epoll_event ev = {.events = events, .data.u64 = key(slot, side)};
    if (e->events == 0xFFFFFFFFu)
        epoll_ctl(ep, EPOLL_CTL_ADD, e->fd, &ev);
    else
        epoll_ctl(ep, EPOLL_CTL_MOD, e->fd, &ev);
    e->events = events;
}

/* The events an end wants: readable while it is read, writable while output waits. */
static void rewatch(uint32_t slot, int side) {
    struct pair *p = &pairs[slot];
    struct end *e = &p->ends[side];
    uint32_t events = 0;
    if (side == 1 && p->connecting)
        events = EPOLLOUT;
    else {
        if (e->reading && !e->eof) events |= EPOLLIN | EPOLLRDHUP;
        if (e->out_len > e->out_off) events |= EPOLLOUT;
    }
    watch(slot, side, events);
}

static void free_pair(uint32_t slot) {
    struct pair *p = &pairs[slot];
    for (int s = 0; s < 2; s++) {
        struct end *e = &p->ends[s];
        if (e->fd >= 0) close(e->fd);  /* also removes it from the epoll set */
        free(e->out);
        memset(e, 0, sizeof *e);
        e->fd = -1;
    }
    p->used = 0;
    p->gen++;
    free_slots[nfree++] = slot;
}

static uint32_t new_pair(void) {
    if (nfree == 0) {
        uint32_t n = npairs ? npairs * 2 : 256;
        pairs = realloc(pairs, n * sizeof *pairs);
        free_slots = realloc(free_slots, n * sizeof *free_slots);
        if (!pairs || !free_slots) { perror("realloc"); exit(1); }
        for (uint32_t i = n; i > npairs; i--) {
            memset(&pairs[i - 1], 0, sizeof pairs[i - 1]);
            free_slots[nfree++] = i - 1;
        }
        npairs = n;
    }
    uint32_t slot = free_slots[--nfree];
    struct pair *p = &pairs[slot];
    p->used = 1;
    p->connecting = 0;
    for (int s = 0; s < 2; s++) {
        memset(&p->ends[s], 0, sizeof p->ends[s]);
        p->ends[s].fd = -1;
        p->ends[s].events = 0xFFFFFFFFu;  /* not registered */
        p->ends[s].reading = 1;
    }
    return slot;
}

/* Writes what end `side` has in its output buffer; returns 0, or -1 when the pair was freed. */
static int flush(uint32_t slot, int side) {
    struct pair *p = &pairs[slot];
    struct end *e = &p->ends[side];
    while (e->out_len > e->out_off) {
        ssize_t n = send(e->fd, e->out + e->out_off, e->out_len - e->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            e->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            free_pair(slot);  /* the peer is gone: so is the pair */
            return -1;
        }
    }
    if (e->out_off == e->out_len) {
        e->out_off = e->out_len = 0;
        if (e->close_after_flush) {
            free_pair(slot);
            return -1;
        }
        /* Drained: the other end may be read again. */
        struct end *o = &p->ends[1 - side];
        if (!o->reading && o->fd >= 0 && e->queued < HIGH_WATER) {
            o->reading = 1;
            rewatch(slot, 1 - side);
        }
    }
    rewatch(slot, side);
    return 0;
}

/* Appends bytes for end `side` and writes what the socket takes; returns 0, or -1 when the pair was freed. */
static int deliver(uint32_t slot, int side, const uint8_t *data, size_t len) {
    struct end *e = &pairs[slot].ends[side];
    if (e->eof) return 0;  /* it ended: the bytes have nowhere to go */
    if (e->out_len == e->out_off) {
        /* Nothing waits: write straight from the caller's buffer. */
        while (len > 0) {
            ssize_t n = send(e->fd, data, len, MSG_NOSIGNAL);
            if (n > 0) {
                data += n;
                len -= (size_t)n;
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            } else {
                free_pair(slot);
                return -1;
            }
        }
        if (len == 0) return 0;
        e->out_off = e->out_len = 0;
    }
    if (e->out_len + len > e->out_cap) {
        if (e->out_off > 0) {
            memmove(e->out, e->out + e->out_off, e->out_len - e->out_off);
            e->out_len -= e->out_off;
            e->out_off = 0;
        }
        if (e->out_len + len > e->out_cap) {
            size_t cap = e->out_cap ? e->out_cap : 16384;
            while (cap < e->out_len + len) cap *= 2;
            e->out = realloc(e->out, cap);
            if (!e->out) { perror("realloc"); exit(1); }
            e->out_cap = cap;
        }
    }
    memcpy(e->out + e->out_len, data, len);
    e->out_len += len;
    /* Backpressure: stop reading the source while this end cannot keep up. */
    struct end *src = &pairs[slot].ends[1 - side];
    if (e->out_len - e->out_off >= HIGH_WATER && src->reading) {
        src->reading = 0;
        rewatch(slot, 1 - side);
    }
    rewatch(slot, side);
    return 0;
}

/* End `side` is to be closed once its output is written (the other end ended). */
static int close_when_flushed(uint32_t slot, int side) {
    struct end *e = &pairs[slot].ends[side];
    e->close_after_flush = 1;
    if (e->out_len == e->out_off) {
        free_pair(slot);
        return -1;
    }
    return 0;
}

static void schedule(uint32_t slot, int side, const uint8_t *data, size_t len) {
    struct chunk *c = malloc(sizeof *c + len);
    if (!c) { perror("malloc"); exit(1); }
    c->next = NULL;
    c->at = now_ns() + delay_ns;
    c->slot = slot;
    c->gen = pairs[slot].gen;
    c->side = (uint8_t)side;
    c->len = len;
    if (len) memcpy(c->data, data, len);
    if (fifo_tail) fifo_tail->next = c; else fifo_head = c;
    fifo_tail = c;
    struct end *e = &pairs[slot].ends[side];
    e->queued += len;
    if (e->queued >= HIGH_WATER) {
        struct end *src = &pairs[slot].ends[1 - side];
        if (src->reading) {
            src->reading = 0;
            rewatch(slot, 1 - side);
        }
    }
}

/* Writes every chunk due by `now`. */
static void release_due(uint64_t now) {
    while (fifo_head && fifo_head->at <= now) {
        struct chunk *c = fifo_head;
        fifo_head = c->next;
        if (!fifo_head) fifo_tail = NULL;
        struct pair *p = &pairs[c->slot];
        if (p->used && p->gen == c->gen) {
            struct end *e = &p->ends[c->side];
            e->queued -= c->len;
            if (c->len == 0)
                close_when_flushed(c->slot, c->side);
            else if (deliver(c->slot, c->side, c->data, c->len) == 0) {
                struct end *src = &p->ends[1 - c->side];
                if (!src->reading && src->fd >= 0 && !src->eof && e->queued < HIGH_WATER &&
                    e->out_len - e->out_off < HIGH_WATER) {
                    src->reading = 1;
                    rewatch(c->slot, 1 - c->side);
                }
            }
        }
        free(c);
    }
}

/* End `side` ended (EOF or error): its peer is closed, at once (client ended) or after the delay. */
static void ended(uint32_t slot, int side) {
    struct pair *p = &pairs[slot];
    struct end *e = &p->ends[side];
    e->eof = 1;
    e->reading = 0;
    /* Nothing more is read from it or written to it (a hung-up socket would keep reporting EPOLLHUP). */
    epoll_ctl(ep, EPOLL_CTL_DEL, e->fd, NULL);
    e->events = 0;
    e->out_len = e->out_off = 0;
    if (side == 1 && delay_ns > 0)
        schedule(slot, 0, NULL, 0);
    else
        close_when_flushed(slot, 1 - side);
}

static void readable(uint32_t slot, int side) {
    /* Bounded per wake-up so one busy connection cannot starve the others or the timer. */
    for (int round = 0; round < 16; round++) {
        struct pair *p = &pairs[slot];
        if (!p->used) return;
        struct end *e = &p->ends[side];
        if (!e->reading || e->eof) return;
        ssize_t n = recv(e->fd, readbuf, sizeof readbuf, 0);
        if (n > 0) {
            if (side == 1 && delay_ns > 0)
                schedule(slot, 0, readbuf, (size_t)n);
            else if (deliver(slot, 1 - side, readbuf, (size_t)n) < 0)
                return;
            if ((size_t)n < sizeof readbuf) return;  /* drained: the next recv would say EAGAIN */
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            ended(slot, side);
            return;
        }
    }
}

static void accept_all(void) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                perror("accept4");  /* EMFILE and the like: the client waits in the backlog */
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (sfd < 0) { close(fd); continue; }
        setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)target_port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int rc = connect(sfd, (struct sockaddr *)&a, sizeof a);
        if (rc < 0 && errno != EINPROGRESS) {
            close(sfd);
            close(fd);
            continue;
        }
        uint32_t slot = new_pair();
        struct pair *p = &pairs[slot];
        p->ends[0].fd = fd;
        p->ends[1].fd = sfd;
        p->connecting = rc < 0;
        /* The client is read only once the server connection is up (as the Python one, which connects
         * before it reads). */
        p->ends[0].reading = !p->connecting;
        rewatch(slot, 0);
        rewatch(slot, 1);
    }
}

static void connected(uint32_t slot) {
    struct pair *p = &pairs[slot];
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(p->ends[1].fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        free_pair(slot);  /* the server refused: close the client */
        return;
    }
    p->connecting = 0;
    p->ends[0].reading = 1;
    rewatch(slot, 0);
    rewatch(slot, 1);
}

static void on_event(uint64_t k, uint32_t events) {
    uint32_t slot = (uint32_t)(k >> 1);
    int side = (int)(k & 1);
    struct pair *p = &pairs[slot];
    if (!p->used) return;
    if (side == 1 && p->connecting) {
        connected(slot);
        return;
    }
    if (events & EPOLLOUT) {
        if (flush(slot, side) < 0) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable(slot, side);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s LISTEN_PORT TARGET_PORT DELAY_MS\n", argv[0]);
        return 2;
    }
    int listen_port = atoi(argv[1]);
    target_port = atoi(argv[2]);
    double delay_ms = atof(argv[3]);
    if (listen_port <= 0 || listen_port > 65535 || target_port <= 0 || target_port > 65535 || delay_ms < 0) {
        fprintf(stderr, "delay_proxy: bad arguments\n");
        return 2;
    }
    delay_ns = (uint64_t)(delay_ms * 1e6);
    signal(SIGPIPE, SIG_IGN);

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)listen_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(listen_fd, 1024) < 0) {
        perror("delay_proxy: bind/listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &lev);

    struct epoll_event events[256];
    int have_pwait2 = 1;
    for (;;) {
        int n;
        uint64_t now = now_ns();
        release_due(now);
        if (!fifo_head) {
            n = epoll_wait(ep, events, 256, -1);
        } else {
            uint64_t wait = fifo_head->at - now;
            if (have_pwait2) {
                struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u), .tv_nsec = (long)(wait % 1000000000u)};
                n = epoll_pwait2(ep, events, 256, &ts, NULL);
                if (n < 0 && errno == ENOSYS) {
                    have_pwait2 = 0;
                    continue;
                }
            } else {
                n = epoll_wait(ep, events, 256, (int)((wait + 999999) / 1000000));
            }
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.u64 == UINT64_MAX)
                accept_all();
            else
                on_event(events[i].data.u64, events[i].events);
        }
    }
}
