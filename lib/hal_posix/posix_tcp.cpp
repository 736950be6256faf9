/* posix_tcp.cpp - see posix_tcp.h. */
#include "posix_tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace {

uint64_t mono_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void set_errno_error(posix_tcp *c, int err) {
    const char *name = strerrorname_np(err);
    if (name)
        snprintf(c->error, sizeof c->error, "%s", name);
    else
        snprintf(c->error, sizeof c->error, "ERRNO_%d", err);
    switch (err) {
        case ECONNREFUSED:
            c->hint =
                "nothing listens on that port: is the broker running, and is it the right port (1883 plain, 8883 TLS)?";
            break;
        case ETIMEDOUT: c->hint = "no answer: check the broker address and that a firewall allows the port"; break;
        case EHOSTUNREACH:
        case ENETUNREACH: c->hint = "no route to the broker: check the address and the network"; break;
        default: c->hint = "";
    }
}

int tcp_open(transport *t, const char *host, uint16_t port) {
    posix_tcp *c = (posix_tcp *)t;
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->error[0] = 0;
    c->hint = "";
    c->got_bytes = 0;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *res = 0;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        snprintf(c->error, sizeof c->error, "NAME_NOT_RESOLVED");
        c->hint = "the broker host name does not resolve: check it, or use its IP address";
        return TRANSPORT_ERR_IO;
    }
    uint64_t deadline = mono_ms() + c->connect_timeout_ms;
    int last_err = ECONNREFUSED;
    for (addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_err = errno;
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            /* Bounded wait: the only place the node may block, see transport.h. */
            pollfd p = {fd, POLLOUT, 0};
            uint64_t now = mono_ms();
            int left = now < deadline ? (int)(deadline - now) : 0;
            rc = poll(&p, 1, left);
            if (rc == 0) {
                last_err = ETIMEDOUT;
                rc = -1;
            } else if (rc > 0) {
                int soerr = 0;
                socklen_t len = sizeof soerr;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
                if (soerr) {
                    last_err = soerr;
                    rc = -1;
                } else {
                    rc = 0;
                }
            } else {
                last_err = errno;
            }
        } else if (rc < 0) {
            last_err = errno;
        }
        if (rc == 0) {
            int one = 1;
            /* MQTT packets are small and latency matters more than segment count. */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->fd = fd;
            freeaddrinfo(res);
            return 0;
        }
        close(fd);
    }
    freeaddrinfo(res);
    set_errno_error(c, last_err);
    return TRANSPORT_ERR_IO;
}

int32_t tcp_read(transport *t, uint8_t *buf, size_t len) {
    posix_tcp *c = (posix_tcp *)t;
    if (c->fd < 0) return TRANSPORT_ERR_CLOSED;
    ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);
    if (n > 0) {
        c->got_bytes = 1;
        return (int32_t)n;
    }
    if (n == 0) {
        snprintf(c->error, sizeof c->error, "CLOSED");
        c->hint = "";
    } else {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        set_errno_error(c, errno);
    }
    /* A TLS listener (Mosquitto on 8883) drops a plain MQTT CONNECT without a byte of answer,
       usually with a reset: say so, the name alone (ECONNRESET) does not. */
    if (c->plain_mqtt && !c->got_bytes)
        c->hint = "the broker dropped plain MQTT without a word: is this a TLS port (8883)? TLS is the default (--ca "
                  "FILE); --plain only for a plain listener (1883)";
    return n == 0 ? TRANSPORT_ERR_CLOSED : TRANSPORT_ERR_IO;
}

int32_t tcp_write(transport *t, const uint8_t *buf, size_t len) {
    posix_tcp *c = (posix_tcp *)t;
    if (c->fd < 0) return TRANSPORT_ERR_CLOSED;
    ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return (int32_t)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    set_errno_error(c, errno);
    return TRANSPORT_ERR_IO;
}

void tcp_close(transport *t) {
    posix_tcp *c = (posix_tcp *)t;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

const char *tcp_error_name(const transport *t) { return ((const posix_tcp *)t)->error; }
const char *tcp_error_hint(const transport *t) { return ((const posix_tcp *)t)->hint; }

} // namespace

void posix_tcp_init(posix_tcp *tcp, uint32_t connect_timeout_ms) {
    memset(tcp, 0, sizeof *tcp);
    tcp->t.open = tcp_open;
    tcp->t.read = tcp_read;
    tcp->t.write = tcp_write;
    tcp->t.close = tcp_close;
    tcp->t.error_name = tcp_error_name;
    tcp->t.error_hint = tcp_error_hint;
    tcp->fd = -1;
    tcp->connect_timeout_ms = connect_timeout_ms ? connect_timeout_ms : 5000;
    tcp->hint = "";
}

int posix_tcp_fd(const posix_tcp *tcp) { return tcp->fd; }
