/*
 * wifi_tcp_transport.cpp - see wifi_tcp_transport.h.
 */
#include "wifi_tcp_transport.h"

#include <ESP8266WiFi.h>

static wifi_tcp_transport *as_tcp(transport *t) { return reinterpret_cast<wifi_tcp_transport *>(t); }
static const wifi_tcp_transport *as_tcp(const transport *t) { return reinterpret_cast<const wifi_tcp_transport *>(t); }

static void set_error(wifi_tcp_transport *t, const char *name, const char *hint) {
    t->err_name = name;
    t->err_hint = hint;
}

static int tcp_open(transport *base, const char *host, uint16_t port) {
    wifi_tcp_transport *t = as_tcp(base);
    t->client.stop();
    set_error(t, "", "");
    if (WiFi.status() != WL_CONNECTED) {
        set_error(t, "NO_WIFI", "WiFi is not connected yet");
        return TRANSPORT_ERR_IO;
    }
    /* Resolve first so a DNS failure is named as such, not as a refused connection. */
    IPAddress ip;
    if (!ip.fromString(host) && !WiFi.hostByName(host, ip, t->connect_timeout_ms)) {
        set_error(t, "DNS_FAILED",
                  "the broker name does not resolve: check NODE_MQTT_HOST (.local names need "
                  "mDNS, which the node does not do; use the broker's IP or a DNS name)");
        return TRANSPORT_ERR_IO;
    }
    t->client.setTimeout(t->connect_timeout_ms);
    if (!t->client.connect(ip, port)) {
        set_error(t, "TCP_CONNECT_FAILED",
                  "is Mosquitto running and listening on this port? check the firewall "
                  "(docs/troubleshooting.md: TCP connect)");
        return TRANSPORT_ERR_IO;
    }
    t->client.setNoDelay(true); /* MQTT packets are small and latency matters (PIR, alerts) */
    t->client.setSync(false);   /* write() must not wait for the peer's ACK */
    return 0;
}

static int32_t tcp_read(transport *base, uint8_t *buf, size_t len) {
    wifi_tcp_transport *t = as_tcp(base);
    const int avail = t->client.available();
    if (avail > 0) {
        const size_t n = static_cast<size_t>(avail) < len ? static_cast<size_t>(avail) : len;
        const int got = t->client.read(buf, n);
        return got > 0 ? got : 0;
    }
    if (!t->client.connected()) {
        set_error(t, "CLOSED", "the broker closed the connection (see its log for why)");
        return TRANSPORT_ERR_CLOSED;
    }
    return 0;
}

static int32_t tcp_write(transport *base, const uint8_t *buf, size_t len) {
    wifi_tcp_transport *t = as_tcp(base);
    if (!t->client.connected()) {
        set_error(t, "CLOSED", "the broker closed the connection (see its log for why)");
        return TRANSPORT_ERR_CLOSED;
    }
    const int room = t->client.availableForWrite();
    if (room <= 0 || len == 0) { return 0; }
    const size_t n = static_cast<size_t>(room) < len ? static_cast<size_t>(room) : len;
    return static_cast<int32_t>(t->client.write(buf, n));
}

static void tcp_close(transport *base) { as_tcp(base)->client.stop(); }

static const char *tcp_error_name(const transport *base) { return as_tcp(base)->err_name; }

static const char *tcp_error_hint(const transport *base) { return as_tcp(base)->err_hint; }

void wifi_tcp_transport_init(wifi_tcp_transport *t, uint32_t connect_timeout_ms) {
    t->base.open = tcp_open;
    t->base.read = tcp_read;
    t->base.write = tcp_write;
    t->base.close = tcp_close;
    t->base.error_name = tcp_error_name;
    t->base.error_hint = tcp_error_hint;
    t->connect_timeout_ms = connect_timeout_ms;
    t->err_name = "";
    t->err_hint = "";
}
