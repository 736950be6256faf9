/*
 * node_certs.h - what src/esp8266 takes from include/certs.h.
 *
 * include/certs.h defines its arrays (not just declares them), so exactly one translation unit
 * may include it: node_certs.cpp. Everything else gets the device identity and the TLS
 * transport through these functions.
 */
#ifndef ESP8266_NODE_CERTS_H
#define ESP8266_NODE_CERTS_H

#include "hal.h"
#include "transport.h"

struct node_identity {
    const char *device_id; /* CERTS_DEVICE_ID unless config.h overrides NODE_DEVICE_ID */
    const char *username;  /* CERTS_MQTT_USERNAME */
    const char *password;  /* CERTS_MQTT_PASSWORD */
};

void node_certs_identity(node_identity *out);

#if NODE_USE_TLS
/* Builds the TLS transport (lib/tls) over `tcp` with the trust material from certs.h and the
   mode from config.h (which links only that mode's code). Call once, from setup(). Each
   connection verifies the name or IP of the host it connects to. Returns the transport for the
   MQTT session, or NULL with *error set to one line that says what is wrong. */
transport *node_certs_tls_begin(transport *tcp, const node_hal *hal, const char **error);
/* Call from every loop(): with NODE_TLS_SESSION_IN_RTC, stores a new session in RTC memory
   after each handshake. Otherwise does nothing. */
void node_certs_tls_poll(void);
#endif

#endif
