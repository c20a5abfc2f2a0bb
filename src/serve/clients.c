/* clients.c: what one client may spend on requests. A client is an IPv4
 * address, or an IPv6 /64 (what one host is given, so a client cannot
 * dodge its limit by changing the low bits). Each has a token bucket:
 * `rate` requests a second, bursts up to BURST seconds of it.
 *
 * The buckets live in a fixed table (no allocation per client): a key is
 * looked for in PROBE slots from its hash; a new client takes an empty one
 * or the one idle the longest. A bucket idle for BURST seconds is full, the
 * same as a new one, so evicting it forgets nothing; only a flood of more
 * than SLOTS addresses active at once can evict live buckets. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/serve.h"

#define SLOTS 4096
#define PROBE 8
#define BURST 2.0 /* seconds of requests a client may send at once */

typedef struct {
    char key[CLIENT_KEY];
    double tokens, last; /* the bucket and when it was last filled */
} bucket;

struct clients {
    double rate;
    pthread_mutex_t mu;
    bucket b[SLOTS];
};

clients *clients_new(double rate) {
    clients *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->rate = rate;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void clients_free(clients *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void client_key(struct MHD_Connection *conn, char key[CLIENT_KEY]) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(key, CLIENT_KEY, "unknown");
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, key, CLIENT_KEY);
    } else if (sa && sa->sa_family == AF_INET6) {
        struct in6_addr a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a)) {
            inet_ntop(AF_INET, a.s6_addr + 12, key, CLIENT_KEY);
            return;
        }
        memset(a.s6_addr + 8, 0, 8); /* the /64 */
        char text[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a, text, sizeof text);
        snprintf(key, CLIENT_KEY, "%s/64", text);
    }
}

static double mono_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* FNV-1a */
static unsigned hash(const char *s) {
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

double clients_take(clients *c, const char *key) {
    if (c->rate <= 0) return 0;
    double now = mono_seconds(), cap = c->rate * BURST, wait = 0;
    unsigned h = hash(key);
    pthread_mutex_lock(&c->mu);
    bucket *b = NULL, *idlest = NULL;
    for (int k = 0; k < PROBE && !b; k++) {
        bucket *q = &c->b[(h + (unsigned)k) % SLOTS];
        if (!strcmp(q->key, key)) b = q;
        else if (!idlest || !*q->key || (*idlest->key && q->last < idlest->last)) idlest = q;
    }
    if (!b) { /* a new client: a full bucket */
        b = idlest;
        snprintf(b->key, sizeof b->key, "%s", key);
        b->tokens = cap, b->last = now;
    }
    /* tokens(t) = min(cap, tokens + rate (t - last)) */
    b->tokens += c->rate * (now - b->last);
    if (b->tokens > cap) b->tokens = cap;
    b->last = now;
    if (b->tokens >= 1) b->tokens -= 1;
    else wait = (1 - b->tokens) / c->rate;
    pthread_mutex_unlock(&c->mu);
    return wait;
}
