/* A UDP DNS forwarder that delays every answer by a fixed time: gives the local dnsmasq the latency of a
 * remote name server, for the DNS benchmark (issue 18: every call needing a fresh lookup at 20 ms).
 * The C twin of Perf/dns_delay.py (same arguments, same behaviour), for the benchmark: the forwarder shares
 * the two cores with the proxy and SIPp, so its CPU per query must be small (a few microseconds here,
 * against tens for the Python loop).
 *
 * Build: cc -O2 -o dns_delay Perf/dns_delay.c   (Perf/dns_bench.sh builds it into its temp dir)
 * Usage: dns_delay LISTEN_PORT TARGET_PORT DELAY_MS   (127.0.0.1 only)
 *
 * TARGET_PORT 0: no upstream, the program answers itself, as an authoritative server for every name
 * would: an A question gets 127.0.0.1 (TTL 3600), any other type an empty answer (NODATA), each DELAY_MS
 * after the question came. Half the system calls of forwarding (no second leg, no dnsmasq), so the DNS
 * side takes as little as possible of the cores the proxy and SIPp need.
 *
 * Queries go to 127.0.0.1:TARGET_PORT at once, under an ID of the forwarder's own (a 16-bit counter, so
 * clients that pick the same ID never lose an answer); each answer goes back to its client, with the
 * client's ID, DELAY_MS after it arrived. The delay is the same for every answer, so the answers due form
 * a FIFO (a ring); one poll() loop, every ready datagram read before sleeping again.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <arpa/inet.h>

#define MAX_ANSWER 1232
#define RING 16384

struct pending { uint8_t id[2]; struct sockaddr_in client; uint8_t used; };
struct due { uint64_t at; uint16_t len; struct sockaddr_in client; uint8_t bytes[MAX_ANSWER]; };

static struct pending pendings[65536];
static struct due ring[RING];
static unsigned head, count;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int udp_socket(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int size = 4 << 20;
    if (fd < 0) { perror("socket"); exit(1); }
    /* Beyond net.core.rmem_max when root (the FORCE variants): a burst of queries while the forwarder
     * waits for a CPU on a busy machine must not overflow its buffers. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return fd;
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* The answer to the query in buf[0..n): the header and question kept (any additional records, such as an
 * EDNS OPT, dropped), one A record 127.0.0.1 for an IN A question. Returns its length, 0 if malformed. */
static size_t answer_locally(uint8_t *buf, size_t n) {
    if (n < 12 || (buf[2] & 0x80) || buf[4] != 0 || buf[5] != 1) return 0;  /* a query, one question */
    size_t at = 12;
    while (at < n && buf[at] != 0) {
        if (buf[at] & 0xC0) return 0;  /* no compression in a question */
        at += (size_t)buf[at] + 1;
    }
    if (at + 5 > n) return 0;
    at += 5;  /* the root label, QTYPE, QCLASS */
    int is_a = buf[at - 4] == 0 && buf[at - 3] == 1 && buf[at - 2] == 0 && buf[at - 1] == 1;
    buf[2] = (uint8_t)(0x84 | (buf[2] & 0x01));  /* QR, AA, RD copied */
    buf[3] = 0x80;                                 /* RA, NOERROR */
    buf[6] = 0; buf[7] = is_a ? 1 : 0;             /* ANCOUNT */
    buf[8] = buf[9] = buf[10] = buf[11] = 0;       /* NSCOUNT, ARCOUNT */
    if (is_a) {
        static const uint8_t record[16] = {0xC0, 12, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 127, 0, 0, 1};
        memcpy(buf + at, record, sizeof record);
        at += sizeof record;
    }
    return at;
}

static void enqueue(uint64_t at, const uint8_t *bytes, size_t n, const struct sockaddr_in *client) {
    if (count == RING || n > MAX_ANSWER) return;
    struct due *d = &ring[(head + count) % RING];
    d->at = at;
    d->len = (uint16_t)n;
    d->client = *client;
    memcpy(d->bytes, bytes, n);
    count++;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s LISTEN_PORT TARGET_PORT DELAY_MS\n", argv[0]);
        return 2;
    }
    int listen_port = atoi(argv[1]), target_port = atoi(argv[2]);
    uint64_t delay = (uint64_t)(atof(argv[3]) * 1e6);
    int down = udp_socket(), up = udp_socket();
    struct sockaddr_in local = loopback(listen_port), target = loopback(target_port);
    if (bind(down, (struct sockaddr *)&local, sizeof local) < 0) { perror("bind"); return 1; }
    int local_answers = target_port == 0;
    if (!local_answers && connect(up, (struct sockaddr *)&target, sizeof target) < 0) {
        perror("connect");
        return 1;
    }
    if (local_answers)
        printf("dns_delay: 127.0.0.1:%d answers itself (A 127.0.0.1), +%s ms\n", listen_port, argv[3]);
    else
        printf("dns_delay: 127.0.0.1:%d -> 127.0.0.1:%d, +%s ms\n", listen_port, target_port, argv[3]);
    fflush(stdout);
    uint16_t next_id = 0;
    uint8_t buf[65536];
    struct pollfd fds[2] = {{.fd = down, .events = POLLIN}, {.fd = up, .events = POLLIN}};
    int nfds = local_answers ? 1 : 2;
    for (;;) {
        uint64_t now = now_ns();
        while (count > 0 && ring[head].at <= now) {
            struct due *d = &ring[head];
            sendto(down, d->bytes, d->len, 0, (struct sockaddr *)&d->client, sizeof d->client);
            head = (head + 1) % RING;
            count--;
        }
        int timeout = -1;
        if (count > 0) timeout = (int)((ring[head].at - now + 999999) / 1000000);
        if (poll(fds, (nfds_t)nfds, timeout) < 0 && errno != EINTR) { perror("poll"); return 1; }
        if (fds[0].revents & POLLIN) {
            for (;;) {
                struct sockaddr_in client;
                socklen_t size = sizeof client;
                ssize_t n = recvfrom(down, buf, sizeof buf, 0, (struct sockaddr *)&client, &size);
                if (n < 0) break;
                if (n < 12) continue;
                if (local_answers) {
                    size_t len = answer_locally(buf, (size_t)n);
                    if (len) enqueue(now_ns() + delay, buf, len, &client);
                    continue;
                }
                next_id++;
                struct pending *p = &pendings[next_id];
                memcpy(p->id, buf, 2);
                p->client = client;
                p->used = 1;
                buf[0] = (uint8_t)(next_id >> 8);
                buf[1] = (uint8_t)next_id;
                if (send(up, buf, (size_t)n, 0) < 0) p->used = 0;
            }
        }
        if (!local_answers && (fds[1].revents & (POLLIN | POLLERR))) {
            uint64_t arrived = now_ns();
            for (;;) {
                ssize_t n = recv(up, buf, sizeof buf, 0);
                if (n < 0) {
                    if (errno == ECONNREFUSED) continue;
                    break;
                }
                if (n < 12 || n > MAX_ANSWER) continue;
                struct pending *p = &pendings[(buf[0] << 8) | buf[1]];
                if (!p->used) continue;
                p->used = 0;
                memcpy(buf, p->id, 2);
                enqueue(arrived + delay, buf, (size_t)n, &p->client);
            }
        }
    }
}
