/*
 * slowloris.c - the slow clients of tests/e2e/test_server_guard.sh: opens N
 * connections to a server and trickles a request head into each, one header
 * line every INTERVAL milliseconds, never finishing it, for SECONDS.  A
 * connection the server closes is opened again at once (as an attacker
 * would), so the pressure stays at N.  Source addresses (loopback aliases
 * such as 127.0.0.2) are used in turn, to act as several clients.
 *
 *   slowloris HOST PORT N INTERVAL_MS SECONDS [SOURCE_ADDR...]
 *
 * Prints one line at the end: opened, closed by the server (or refused),
 * and still open.  Exits 0, or 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct sockaddr_in server;
static char **sources;
static int nsources;
static unsigned long opened, closed;

static int open_one(int k)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (nsources) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, sources[k % nsources], &src.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
            close(fd);
            return -1;
        }
    }
    if (connect(fd, (struct sockaddr *)&server, sizeof server) != 0 && errno != EINPROGRESS) {
        close(fd);
        closed++;
        return -1;
    }
    opened++;
    return fd;
}

/* Send text; -1 when the server has closed the connection. */
static int trickle(int fd, const char *text)
{
    struct pollfd p = {fd, POLLIN, 0};
    char buf[256];
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN))
            return -1;
        if (n > 0)
            return -1; /* an answer to a head never finished: closed after it */
    }
    ssize_t n = send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != ENOTCONN)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: slowloris HOST PORT N INTERVAL_MS SECONDS [SOURCE_ADDR...]\n");
        return 2;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short)atoi(argv[2]));
    int n = atoi(argv[3]), interval = atoi(argv[4]);
    double secs = atof(argv[5]);
    if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1 || n <= 0 || interval <= 0 || secs <= 0) {
        fprintf(stderr, "slowloris: bad arguments\n");
        return 2;
    }
    sources = argv + 6;
    nsources = argc - 6;
    int *fd = malloc((size_t)n * sizeof *fd);
    int *sent = calloc((size_t)n, sizeof *sent);
    if (!fd || !sent)
        return 2;
    for (int k = 0; k < n; k++)
        fd[k] = open_one(k);
    double end = now() + secs;
    int round = 0;
    while (now() < end) {
        for (int k = 0; k < n; k++) {
            char line[64];
            if (fd[k] < 0) {
                fd[k] = open_one(k);
                sent[k] = 0;
                continue;
            }
            if (sent[k] == 0)
                snprintf(line, sizeof line, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
            else
                snprintf(line, sizeof line, "X-Slow-%d: y\r\n", round);
            if (trickle(fd[k], line) < 0) {
                close(fd[k]);
                closed++;
                fd[k] = -1;
            } else {
                sent[k]++;
            }
        }
        round++;
        double wake = now() + interval / 1000.0;
        while (now() < wake && now() < end)
            usleep(20000);
    }
    int still = 0;
    for (int k = 0; k < n; k++)
        if (fd[k] >= 0) {
            still++;
            close(fd[k]);
        }
    printf("slowloris: %lu opened, %lu closed by the server, %d open at the end\n", opened, closed, still);
    free(fd);
    free(sent);
    return 0;
}
