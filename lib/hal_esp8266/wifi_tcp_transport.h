/*
 * wifi_tcp_transport.h - lib/port/transport.h over the Arduino core's WiFiClient (plain TCP).
 *
 * Used directly for plain MQTT (port 1883) and as the byte stream under the TLS transport
 * (lib/tls) on the chip. Non-blocking as the contract asks:
 *  - read() hands out only what WiFiClient::available() already holds;
 *  - write() offers at most availableForWrite() bytes (lwIP's free send buffer) with sync off,
 *    so WiFiClient::write() copies them into lwIP and returns without waiting for an ACK;
 *  - open() blocks for DNS + TCP connect, bounded by connect_timeout_ms (WiFiClient's timeout).
 * The WiFiClient lives inside the struct (static storage, no heap of ours); the core allocates
 * its ClientContext per connection, as it does for every Arduino sketch.
 */
#ifndef WIFI_TCP_TRANSPORT_H
#define WIFI_TCP_TRANSPORT_H

#include <WiFiClient.h>

#include "transport.h"

struct wifi_tcp_transport {
    transport base; /* first, so a transport* from the session converts back */
    WiFiClient client;
    uint32_t connect_timeout_ms;
    const char *err_name;
    const char *err_hint;
};

/* Fills t->base; connect_timeout_ms bounds open() (DNS and TCP connect each). */
void wifi_tcp_transport_init(wifi_tcp_transport *t, uint32_t connect_timeout_ms);

#endif
